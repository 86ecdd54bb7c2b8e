"""Fixtures: a registry on fresh embedded chains (module-wide), worlds on each chain, anvil."""

from tests.registry_fixtures import anvil_registry, anvil_world, registry, world

__all__ = ["anvil_registry", "anvil_world", "registry", "world"]
