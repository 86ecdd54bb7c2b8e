#!/usr/bin/env python3
"""Find or install anvil (Foundry's development node) for the conformance tests and the benchmark.

Looks, in order, at ``$ANVIL_BIN``, the copy installed under ``.tools/`` (git-ignored), and
``anvil`` on the PATH; if none exists, installs the pinned npm package
``@foundry-rs/anvil-linux-amd64`` into ``.tools/`` with npm.

    python scripts/install_anvil.py          # prints the path of the anvil binary
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ANVIL_PACKAGE = "@foundry-rs/anvil-linux-amd64"
ANVIL_VERSION = "1.7.1"
ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
INSTALLED_BINARY = TOOLS / "node_modules" / ANVIL_PACKAGE / "bin" / "anvil"


class AnvilUnavailableError(RuntimeError):
    """anvil is not installed and cannot be installed here; the message says why."""


def _works(binary: Path) -> bool:
    try:
        result = subprocess.run([str(binary), "--version"], capture_output=True, timeout=30, check=False)
    except OSError:
        return False
    return result.returncode == 0


def find_anvil() -> Path | None:
    """An anvil binary that runs, without installing anything."""
    candidates = []
    if os.environ.get("ANVIL_BIN"):
        candidates.append(Path(os.environ["ANVIL_BIN"]))
    candidates.append(INSTALLED_BINARY)
    on_path = shutil.which("anvil")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and _works(candidate):
            return candidate
    return None


def install_anvil() -> Path:
    """Install the pinned anvil package into ``.tools/`` and return the binary.

    Raises:
        AnvilUnavailableError: wrong platform, no npm, or the installation failed.
    """
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise AnvilUnavailableError(f"{ANVIL_PACKAGE} only runs on linux x86-64, not {sys.platform}")
    npm = shutil.which("npm")
    if npm is None:
        raise AnvilUnavailableError(
            "npm is not installed, so anvil cannot be installed; set ANVIL_BIN to a binary"
        )
    TOOLS.mkdir(exist_ok=True)
    result = subprocess.run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(TOOLS),
            f"{ANVIL_PACKAGE}@{ANVIL_VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0 or not _works(INSTALLED_BINARY):
        raise AnvilUnavailableError(
            f"installing {ANVIL_PACKAGE}@{ANVIL_VERSION} with npm failed: {result.stderr[-500:]}"
        )
    return INSTALLED_BINARY


def ensure_anvil() -> Path:
    """The anvil binary, installed first if needed.

    Raises:
        AnvilUnavailableError: it is not there and cannot be installed.
    """
    return find_anvil() or install_anvil()


def main() -> int:
    """Print the path of anvil, installing it if needed."""
    try:
        print(ensure_anvil())
    except AnvilUnavailableError as exc:
        print(f"anvil unavailable: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
