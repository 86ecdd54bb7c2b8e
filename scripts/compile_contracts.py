#!/usr/bin/env python3
"""Compile every contract under contracts/src with the pinned solc-js and write artifacts.

Usage:
    python scripts/compile_contracts.py           # rewrite contracts/artifacts/*.json
    python scripts/compile_contracts.py --check   # fail, naming the contract, if any artifact is stale

The compiler and OpenZeppelin come from contracts/package.json (installed with
``npm ci`` in contracts/, which this script runs when node_modules is missing).
Only this script needs Node; the Python package reads the committed artifacts.

Two guards run on every compile: each deployable contract must fit the EIP-170 code size
limit (and its creation code, which embeds the modules a token creates, the EIP-3860 one), and
the storage layout of ``RegulatedTokenAdmin`` (which tokens run by delegatecall on
their own storage) must be the start of every token's layout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "contracts"
SOURCES = CONTRACTS / "src"
ARTIFACTS = CONTRACTS / "artifacts"
SOLCJS = CONTRACTS / "node_modules" / "solc" / "soljson.js"
RUNNER = ROOT / "scripts" / "solc_compile.cjs"

SETTINGS: dict[str, Any] = {
    "evmVersion": "prague",
    "optimizer": {"enabled": True, "runs": 200},
    "outputSelection": {
        "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata", "storageLayout"]}
    },
}
#: EIP-170: the largest deployed code a contract may have; EIP-3860: the largest creation code.
MAX_CODE_SIZE = 24_576
MAX_INITCODE_SIZE = 49_152
#: The module that tokens run by delegatecall, and the view that marks a token using it.
ADMIN_MODULE = "RegulatedTokenAdmin"
ADMIN_GETTER = "administration"


def _ensure_compiler() -> None:
    if SOLCJS.exists():
        return
    print("contracts/node_modules missing: running npm ci in contracts/", file=sys.stderr)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CONTRACTS, check=True)


def _compile() -> dict[str, Any]:
    sources = {
        path.relative_to(CONTRACTS).as_posix(): {"content": path.read_text()}
        for path in sorted(SOURCES.rglob("*.sol"))
    }
    if not sources:
        sys.exit(f"no .sol files under {SOURCES}")
    request = json.dumps({"language": "Solidity", "sources": sources, "settings": SETTINGS})
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        proc = subprocess.run(["node", str(RUNNER), str(out)], input=request, text=True, check=False)
        if proc.returncode != 0 or not out.exists():
            sys.exit(f"solc-js failed (exit {proc.returncode})")
        output: dict[str, Any] = json.loads(out.read_text())
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    for err in output.get("errors", []):
        print(err.get("formattedMessage", err.get("message")), file=sys.stderr)
    if errors:
        sys.exit(f"compilation failed with {len(errors)} error(s)")
    return output


def _check_limits(output: dict[str, Any]) -> None:
    """Exit if a contract is too large to deploy or a token's storage does not start like the module's."""
    contracts = {
        name: data
        for source, by_name in output["contracts"].items()
        if source.startswith("src/")
        for name, data in by_name.items()
    }
    problems = []
    for name, data in sorted(contracts.items()):
        size = len(data["evm"]["deployedBytecode"]["object"]) // 2
        if size > MAX_CODE_SIZE:
            problems.append(f"{name} is {size:,} bytes of code, above the EIP-170 limit of {MAX_CODE_SIZE:,}")
        init = len(data["evm"]["bytecode"]["object"]) // 2
        if init > MAX_INITCODE_SIZE:
            problems.append(
                f"{name}'s creation code is {init:,} bytes, above the EIP-3860 limit of {MAX_INITCODE_SIZE:,}"
            )

    def layout(name: str) -> list[tuple[str, str, int, str]]:
        storage = contracts[name]["storageLayout"]["storage"]
        return [(item["label"], item["slot"], item["offset"], item["type"]) for item in storage]

    if ADMIN_MODULE in contracts:
        module = layout(ADMIN_MODULE)
        for name, data in sorted(contracts.items()):
            if (
                any(item.get("name") == ADMIN_GETTER for item in data["abi"])
                and layout(name)[: len(module)] != module
            ):
                problems.append(f"{name}'s storage layout does not start with {ADMIN_MODULE}'s")
    if problems:
        sys.exit("\n".join(problems))


def _version() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "version"
        subprocess.run(["node", str(RUNNER), "--version", str(out)], input="", text=True, check=True)
        return out.read_text().strip()


def _artifacts(output: dict[str, Any], version: str) -> dict[str, dict[str, Any]]:
    """One artifact per contract defined in our own sources (not in OpenZeppelin's)."""
    result: dict[str, dict[str, Any]] = {}
    for source, contracts in sorted(output["contracts"].items()):
        if not source.startswith("src/"):
            continue
        for name, data in sorted(contracts.items()):
            bytecode = data["evm"]["bytecode"]["object"]
            # Interfaces and abstract contracts have no bytecode; libraries of internal
            # functions have no ABI: neither is anything to deploy or call.
            if not bytecode or not data["abi"]:
                continue
            if name in result:
                sys.exit(f"two contracts are named {name}; artifact names must be unique")
            metadata = json.loads(data["metadata"])
            # The metadata lists every source file the contract was built from with its
            # keccak256; hashing that list gives a fingerprint of exactly its inputs.
            source_hashes = {path: meta["keccak256"] for path, meta in metadata["sources"].items()}
            digest = hashlib.sha256(json.dumps(source_hashes, sort_keys=True).encode()).hexdigest()
            result[name] = {
                "contractName": name,
                "sourceName": source,
                "compiler": {"name": "solc-js", "version": version},
                "settings": {k: v for k, v in SETTINGS.items() if k != "outputSelection"},
                "sourceHash": digest,
                "abi": data["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
            }
    return result


def _write(artifacts: dict[str, dict[str, Any]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        if old.stem not in artifacts:
            old.unlink()
    for name, artifact in artifacts.items():
        (folder / f"{name}.json").write_text(json.dumps(artifact, indent=2, sort_keys=True) + "\n")


def _check(artifacts: dict[str, dict[str, Any]]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        fresh_dir = Path(tmp)
        _write(artifacts, fresh_dir)
        committed = {p.stem for p in ARTIFACTS.glob("*.json")}
        stale = []
        for name in sorted(artifacts):
            path = ARTIFACTS / f"{name}.json"
            if not path.exists():
                stale.append(f"{name}: no committed artifact")
            elif path.read_text() != (fresh_dir / f"{name}.json").read_text():
                stale.append(f"{name}: committed artifact differs from a fresh compile")
        stale += [f"{name}: artifact has no source any more" for name in sorted(committed - set(artifacts))]
    if stale:
        print("stale contract artifacts (run python scripts/compile_contracts.py):", file=sys.stderr)
        for line in stale:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"{len(artifacts)} contract artifacts are up to date")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if a committed artifact is stale")
    args = parser.parse_args()
    _ensure_compiler()
    output = _compile()
    _check_limits(output)
    artifacts = _artifacts(output, _version())
    if args.check:
        return _check(artifacts)
    _write(artifacts, ARTIFACTS)
    print(f"wrote {len(artifacts)} artifacts to {ARTIFACTS.relative_to(ROOT)}: {', '.join(artifacts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
