"""Fixtures of the demo tests: one registry on fresh in-memory chains, shared by the module (each
scenario runs with its own seed, so its parties are its own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from registry.runtime import Registry
from tests.registry_fixtures import service_settings

HOLDERS = 3
"""The crowd of the tests (the CLI's default is 50)."""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry on two fresh in-memory embedded chains."""
    opened = Registry.open(service_settings(tmp_path_factory.mktemp("demos")), in_memory=True, follow=False)
    yield opened
    opened.close()
