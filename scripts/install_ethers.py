#!/usr/bin/env python3
"""Find or install ethers v6 (pinned) for the tests that check what ethers users see.

Installs the npm package ``ethers`` at `ETHERS_VERSION` into ``.tools/ethers/`` (git-ignored)
with npm, unless it is already there; needs Node and npm.

    python scripts/install_ethers.py          # prints the node_modules folder that holds ethers
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ETHERS_VERSION = "6.17.0"
ROOT = Path(__file__).resolve().parent.parent
PREFIX = ROOT / ".tools" / "ethers"
MODULES = PREFIX / "node_modules"


class EthersUnavailableError(RuntimeError):
    """Node, npm or the ethers package cannot be had here; the message says why."""


def installed_version() -> str | None:
    """The version of ethers under ``.tools/ethers``, if any."""
    manifest = MODULES / "ethers" / "package.json"
    if not manifest.is_file():
        return None
    version = json.loads(manifest.read_text()).get("version")
    return version if isinstance(version, str) else None


def ensure_ethers() -> Path:
    """The ``node_modules`` folder holding the pinned ethers, installed first if needed.

    Raises:
        EthersUnavailableError: no Node or npm, or the installation failed.
    """
    if shutil.which("node") is None:
        raise EthersUnavailableError("Node is not installed")
    if installed_version() == ETHERS_VERSION:
        return MODULES
    npm = shutil.which("npm")
    if npm is None:
        raise EthersUnavailableError("npm is not installed, so ethers cannot be installed")
    PREFIX.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(PREFIX), f"ethers@{ETHERS_VERSION}"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or installed_version() != ETHERS_VERSION:
        raise EthersUnavailableError(
            f"installing ethers@{ETHERS_VERSION} with npm failed: {result.stderr[-500:]}"
        )
    return MODULES


def main() -> int:
    """Print the folder holding ethers, installing it if needed."""
    try:
        print(ensure_ethers())
    except EthersUnavailableError as exc:
        print(f"ethers unavailable: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
