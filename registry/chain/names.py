"""The names of the two chains, shared by the settings, the CLI, the backends and the data directory."""

from __future__ import annotations

from typing import Literal

ChainName = Literal["permissioned", "permissionless"]
"""The two chains, named the same way in the CLI, the settings and the data directory."""

CHAIN_NAMES: tuple[ChainName, ...] = ("permissioned", "permissionless")
"""Every valid chain name, in display order."""
