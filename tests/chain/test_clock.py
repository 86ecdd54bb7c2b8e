"""Moving a development chain's clock forward through the web3 seam."""

from __future__ import annotations

from registry.chain import connect
from registry.chain.clock import advance_to, latest_timestamp
from registry.settings import Settings


def test_advance_to_reaches_the_target_and_later_calls_never_go_back(tmp_path) -> None:
    with connect(
        "permissionless", Settings(data_dir=tmp_path), embedded=True, in_memory=True, sealing="instant"
    ) as handle:
        start = latest_timestamp(handle.w3)
        target = start + 180 * 86_400
        reached = advance_to(handle.w3, target)
        assert reached >= target
        assert latest_timestamp(handle.w3) == reached
        # A target in the past mines nothing and moves nothing backwards.
        block = handle.w3.eth.block_number
        assert advance_to(handle.w3, start) == reached
        assert handle.w3.eth.block_number == block
