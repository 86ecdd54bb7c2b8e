"""Demos: the permissioned-vs-open argument, both sides, on the same assets, with numbers.

Each scenario is a module with ``NAME``, ``SUMMARY`` (one line: what it shows), a module docstring (the
workshop explanation) and ``run(demo)``; `run_scenario` runs one on an open `Registry` and returns its
`DemoReport`, `run_fresh` runs one on a fresh temporary data directory (what ``registry demo NAME``
does, so that it never touches anyone's data).

Scenarios that move a chain's clock (record dates, maturity, a lock-up) say so in their summary: on a
shared server (``POST /demos/{name}``) that moves the chain's clock forward for everyone using it.
"""

from __future__ import annotations

import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from pydantic import SecretStr

from registry.custody.keystore import WEAK_KDF_N
from registry.demos import access, bond, build, censor, cost, hack, stock
from registry.demos.base import Demo, Progress
from registry.demos.report import DemoReport, DemoStep
from registry.errors import ConfigurationError
from registry.runtime import Registry
from registry.settings import Settings

__all__ = [
    "SCENARIOS",
    "DemoReport",
    "DemoStep",
    "Progress",
    "Scenario",
    "fresh_settings",
    "run_fresh",
    "run_scenario",
    "scenario",
]


@dataclass(frozen=True)
class Scenario:
    """A scenario: its name, one line saying what it shows, the workshop explanation, and the code."""

    name: str
    summary: str
    description: str
    module: ModuleType
    variants: tuple[str, ...] = ()


def _scenario(module: ModuleType) -> Scenario:
    return Scenario(
        name=module.NAME,
        summary=module.SUMMARY,
        description=" ".join((module.__doc__ or "").split()),
        module=module,
        variants=tuple(getattr(module, "VARIANTS", ())),
    )


SCENARIOS: dict[str, Scenario] = {
    s.name: s for s in map(_scenario, (hack, censor, access, build, bond, stock, cost))
}
"""The scenarios in workshop order, by name."""

DEFAULT_HOLDERS = 50
"""Holders the crowd scenarios create (tests pass fewer)."""


def scenario(name: str) -> Scenario:
    """The scenario ``name``.

    Raises:
        ConfigurationError: no scenario has that name (the message lists them).
    """
    found = SCENARIOS.get(name)
    if found is None:
        raise ConfigurationError(f"unknown demo {name!r}; the demos are: {', '.join(SCENARIOS)}")
    return found


def run_scenario(
    registry: Registry,
    name: str,
    *,
    progress: Progress | None = None,
    seed: str = "demo",
    holders: int = DEFAULT_HOLDERS,
    variant: str | None = None,
) -> DemoReport:
    """Run scenario ``name`` on the open ``registry``; ``progress`` hears of each step.

    Raises:
        ConfigurationError: no such scenario or variant, or the registry lacks what the demos need.
        RegistryError: a step failed for a reason the scenario does not expect.
    """
    chosen = scenario(name)
    if variant is not None and variant not in chosen.variants:
        known = ", ".join(chosen.variants) or "none"
        raise ConfigurationError(f"the demo {name!r} has no variant {variant!r}; its variants: {known}")
    demo = Demo(
        registry,
        chosen.name,
        chosen.description,
        seed=seed,
        progress=progress,
        holders=holders,
        variant=variant,
    )
    chosen.module.run(demo)
    return demo.report


def fresh_settings(data_dir: Path) -> Settings:
    """Settings of a throwaway registry in ``data_dir``: embedded chains, SQLite index, a keystore with a
    random passphrase and a cheap work factor; nothing read from ``REGISTRY_*`` can point it elsewhere."""
    return Settings(
        data_dir=data_dir,
        permissioned_rpc_url=None,
        permissionless_rpc_url=None,
        database_url=None,
        keystore_passphrase=SecretStr(secrets.token_hex(16)),
        # The keystore is deleted with the run: the cheapest work factor that is not announced as weak.
        keystore_kdf_n=WEAK_KDF_N,
    )


def run_fresh(
    name: str,
    *,
    progress: Progress | None = None,
    holders: int = DEFAULT_HOLDERS,
    variant: str | None = None,
) -> DemoReport:
    """Run scenario ``name`` on a registry opened in a fresh temporary directory, removed afterwards."""
    scenario(name)
    with (
        tempfile.TemporaryDirectory(prefix="registry-demo-") as folder,
        Registry.open(fresh_settings(Path(folder)), in_memory=True, follow=False) as registry,
    ):
        return run_scenario(registry, name, progress=progress, holders=holders, variant=variant)
