"""txpool_status, txpool_content and txpool_inspect: ready transactions are pending, gapped ones queued."""

from __future__ import annotations

from registry.chain.rpc.dispatcher import RpcDispatcher
from tests.chain.conftest import GWEI, sign
from tests.chain.rpc.support import result


def test_pending_and_queued_follow_the_account_nonce(manual_chain):
    rpc = RpcDispatcher(manual_chain)
    alice, bob = (manual_chain.dev_accounts[i].account for i in (0, 1))
    raws = {
        (alice, 0): sign(alice, nonce=0, to=bob.address, value=5),
        (alice, 1): sign(alice, nonce=1, to=bob.address, value=6),
        (alice, 3): sign(alice, nonce=3, to=bob.address, value=7),  # waits for nonce 2
        (bob, 1): sign(bob, nonce=1, data=b"\x00", gas=60_000),  # waits for nonce 0; a creation
    }
    hashes = {key: manual_chain.send_raw_transaction(raw) for key, raw in raws.items()}
    assert result(rpc, "txpool_status") == {"pending": "0x2", "queued": "0x2"}
    content = result(rpc, "txpool_content")
    assert sorted(content["pending"][alice.address]) == ["0", "1"]
    assert content["pending"][alice.address]["1"]["hash"] == "0x" + hashes[(alice, 1)].hex()
    assert content["pending"][alice.address]["1"]["blockNumber"] is None
    assert list(content["queued"][alice.address]) == ["3"]
    assert list(content["queued"][bob.address]) == ["1"]
    inspect = result(rpc, "txpool_inspect")
    assert inspect["pending"][alice.address]["0"] == f"{bob.address}: 5 wei + 21000 gas × {5 * GWEI} wei"  # noqa: RUF001
    assert inspect["queued"][bob.address]["1"].startswith("contract creation: 0 wei + 60000 gas")

    manual_chain.seal_pending()
    assert result(rpc, "txpool_status") == {"pending": "0x0", "queued": "0x2"}
    manual_chain.send_raw_transaction(sign(alice, nonce=2, to=bob.address))
    assert result(rpc, "txpool_status") == {"pending": "0x2", "queued": "0x1"}
