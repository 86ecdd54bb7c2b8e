"""The runtime: one object that opens both chains, the index, custody and the services; the index follows
each chain so that a read after a write sees it; closing stops the followers before the chains."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from registry.chain.backend import ChainHandle
from registry.errors import ConfigurationError, IndexBehindError
from registry.index import queries
from registry.index.db import Database
from registry.index.indexer import IndexFollower
from registry.runtime import Registry
from tests.registry_fixtures import World, anvil_fund, make_world, registry, service_settings

__all__ = ["registry"]


@pytest.fixture
def following(tmp_path: Path) -> Iterator[Registry]:
    """A registry on fresh in-memory chains with its index followers running."""
    opened = Registry.open(service_settings(tmp_path), in_memory=True)
    yield opened
    opened.close()


def cap_table_matches_the_chain(registry: Registry, asset_id: str, wallets: list[str]) -> None:
    token = registry.context.token(registry.asset(asset_id))
    with registry.db.read() as session:
        page = queries.cap_table(session, asset_id, limit=1000)
    held = {entry.wallet: entry.balance for entry in page.entries}
    block = page.block.number
    assert page.total_supply == token.functions.totalSupply().call(block_identifier=block)
    for wallet in wallets:
        assert held.get(wallet, 0) == token.functions.balanceOf(wallet).call(block_identifier=block)
    assert sum(held.values()) == page.total_supply


@pytest.mark.parametrize("chain", ["permissioned", "permissionless"])
def test_issue_onboard_mint_transfer_and_the_cap_table_equals_the_chain(
    following: Registry, chain: str
) -> None:
    world = make_world(following, chain)
    bond = world.bond("kyc")
    alice, bob, carol = world.onboard(3)
    following.tokens.batch_mint(bond, [(alice.address, 100), (bob.address, 50)], sender=world.issuer)
    following.tokens.transfer(bond, carol.address, 30, sender=alice.address)
    last = following.tokens.transfer(bond, alice.address, 5, sender=bob.address)
    following.wait_for_index(chain, last.block_number)
    cap_table_matches_the_chain(following, bond, [alice.address, bob.address, carol.address])
    with following.db.read() as session:
        page = queries.cap_table(session, bond)
        assert {e.wallet: (e.balance, e.investor.country if e.investor else None) for e in page.entries} == {
            alice.address: (75, 756),
            bob.address: (45, 756),
            carol.address: (30, 756),
        }
    assert following.followers[following.context.chain(chain).name].last_error is None


def test_a_read_after_a_write_waits_for_the_index_and_a_block_never_reached_is_reported(
    following: Registry,
) -> None:
    world = make_world(following, "permissionless")
    outcome = following.cash.mint(world.cash, world.issuer, 1, sender=world.issuer)
    following.wait_for_index("permissionless", outcome.block_number, timeout=30)
    with following.db.read() as session:
        assert queries.index_head(session, "permissionless").number >= outcome.block_number
    with pytest.raises(IndexBehindError, match="did not reach block"):
        following.wait_for_index("permissionless", outcome.block_number + 10_000, timeout=0.05)
    with pytest.raises(Exception, match=r"not open|the chains are"):
        following.wait_for_index("mainnet", 1)


def test_closing_stops_the_followers_then_the_chains_then_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []
    for cls, name in ((IndexFollower, "stop"), (ChainHandle, "close"), (Database, "close")):
        real = getattr(cls, name)

        def spy(self: Any, *args: Any, _real: Any = real, _label: str = f"{cls.__name__}.{name}") -> Any:
            order.append(_label)
            return _real(self, *args)

        monkeypatch.setattr(cls, name, spy)
    registry = Registry.open(service_settings(tmp_path), in_memory=True)
    followers = list(registry.followers.values())
    registry.close()
    registry.close()  # twice is harmless
    assert order == ["IndexFollower.stop"] * 2 + ["ChainHandle.close"] * 2 + ["Database.close"]
    assert all(not follower._thread.is_alive() for follower in followers)  # type: ignore[union-attr]


def test_a_failed_open_closes_what_it_opened(tmp_path: Path) -> None:
    settings = service_settings(tmp_path)
    with pytest.raises(ConfigurationError, match="unknown chain"):
        Registry.open(settings, chains=["permissioned", "mainnet"])
    # The permissioned chain's folder was released: it opens again in this process.
    with Registry.open(settings, chains=["permissioned"], follow=False) as again:
        assert again.chain("permissioned").w3.eth.block_number >= 0


def test_without_followers_waiting_syncs_the_index(registry: Registry) -> None:
    world = make_world(registry, "permissioned")
    outcome = registry.cash.mint(world.cash, Account.create().address, 5, sender=world.issuer)
    assert registry.followers == {}
    registry.wait_for_index("permissioned", outcome.block_number)
    with registry.db.read() as session:
        assert queries.index_head(session, "permissioned").number >= outcome.block_number


def test_the_index_follows_anvil(anvil_node: Any, tmp_path: Path) -> None:
    settings = service_settings(tmp_path, permissionless_rpc_url=anvil_node.url)
    with Registry.open(settings, chains=["permissionless"]) as registry:
        issuer = registry.keys.create("anvil issuer").address
        anvil_fund(registry, issuer)
        provider = registry.registries.provider("permissionless", create=True)
        assert provider is not None
        anvil_fund(registry, provider)
        cash = registry.cash.issue(
            "permissionless", {"name": "A", "symbol": "A"}, issuer=issuer
        ).asset.asset_id
        world = World(registry=registry, chain="permissionless", issuer=issuer, cash=cash)
        bond = world.bond("kyc")
        (alice,) = world.onboard(1)
        outcome = registry.tokens.mint(bond, alice.address, 9, sender=issuer)
        registry.wait_for_index("permissionless", outcome.block_number)
        cap_table_matches_the_chain(registry, bond, [alice.address])
