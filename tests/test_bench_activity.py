"""scripts/bench_activity.py measures what it says (small counts; no timing is asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from registry.runtime import Registry
from tests.registry_fixtures import service_settings

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import bench_activity  # noqa: E402


@pytest.mark.parametrize("chain", ["permissioned", "permissionless"])
def test_a_block_and_its_listener_are_timed_on_the_same_blocks(tmp_path: Path, chain: str) -> None:
    with Registry.open(
        service_settings(tmp_path), in_memory=True, sealing="instant", follow=False
    ) as registry:
        head = registry.chain(chain).w3.eth.block_number
        per_block, per_listener = bench_activity.bench_chain(registry, chain, 3)
        # The issuer's provisioning, the issue, the mint, and the three timed transfers in a block each.
        assert registry.chain(chain).w3.eth.block_number >= head + 5
        assert per_block > 0 and per_listener > 0


def test_publishing_to_readers_that_never_read_completes() -> None:
    assert bench_activity.bench_publish(3, 500) > 0
