"""Compiled contract artifacts, loaded by contract name.

The artifacts are written by ``scripts/compile_contracts.py`` under
``contracts/artifacts`` and committed, so that nothing here needs Node or solc.
An installed wheel carries them as ``registry/_artifacts``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from registry.errors import ArtifactError

_PACKAGED = Path(__file__).resolve().parent / "_artifacts"
_SOURCE_TREE = Path(__file__).resolve().parent.parent / "contracts" / "artifacts"


@dataclass(frozen=True)
class Artifact:
    """What the compiler produced for one contract."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler_version: str
    settings: dict[str, Any]
    source_hash: str


def artifacts_dir() -> Path:
    """The folder holding the artifacts: the packaged copy if installed, else the source tree's."""
    return _PACKAGED if _PACKAGED.is_dir() else _SOURCE_TREE


def known_contracts() -> list[str]:
    """Names of every contract that has an artifact, sorted."""
    return sorted(path.stem for path in artifacts_dir().glob("*.json"))


@cache
def load_artifact(name: str) -> Artifact:
    """Load the artifact of contract ``name``.

    Raises:
        ArtifactError: no artifact has that name (the message lists the known ones),
            or the file is not a valid artifact.
    """
    path = artifacts_dir() / f"{name}.json"
    if not path.is_file():
        known = ", ".join(known_contracts()) or "none"
        raise ArtifactError(
            f"no compiled contract named {name!r}; known contracts: {known}. "
            "If you added a contract, run python scripts/compile_contracts.py."
        )
    try:
        data = json.loads(path.read_text())
        return Artifact(
            name=data["contractName"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
            compiler_version=data["compiler"]["version"],
            settings=data["settings"],
            source_hash=data["sourceHash"],
        )
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ArtifactError(
            f"artifact {path} is not valid ({exc}); regenerate it with python scripts/compile_contracts.py"
        ) from exc
