"""Checks shared by the index tests: the index against the contracts, and against a fresh re-index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from web3.contract import Contract

from registry.index import Database, Indexer, catalogue, queries
from registry.index.models import (
    VERSIONED_MODELS,
    Block,
    ContractCursor,
    Event,
    IndexerState,
    Intervention,
    Split,
    ValidatorChange,
)
from registry.index.versioned import chain_condition

DERIVED: tuple[type[Any], ...] = (
    Block,
    Event,
    Split,
    IndexerState,
    ContractCursor,
    Intervention,
    ValidatorChange,
    *VERSIONED_MODELS,
)
"""Every table the indexer writes."""


def dump(db: Database, chain: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the indexer wrote for ``chain``, without surrogate ids, sorted."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with db.read() as session:
        for model in DERIVED:
            columns = [c for c in model.__table__.columns if c.key != "id"]
            rows = session.execute(select(*columns).where(chain_condition(model, chain))).all()
            tables[model.__tablename__] = sorted((tuple(row) for row in rows), key=repr)
    return tables


def wipe_derived(db: Database) -> None:
    """Delete every row the indexers wrote (the catalogue stays)."""
    from registry.index.models import Chain

    with db.write() as session:
        models: list[type[Any]] = [*DERIVED, Chain]
        for model in models:
            session.execute(delete(model))


def copy_catalogue(source: Database, target: Database) -> None:
    """Catalogue in ``target`` every asset and identity registry of ``source``."""
    with source.read() as session:
        assets = catalogue.list_assets(session)
        registries = catalogue.list_identity_registries(session)
    with target.write() as session:
        for registry in registries:
            catalogue.add_identity_registry(
                session,
                chain=registry.chain,
                chain_id=registry.chain_id,
                address=registry.address,
                from_block=registry.from_block,
                label=registry.label,
            )
        for asset in assets:
            catalogue.add_asset(
                session,
                chain=asset.chain,
                chain_id=asset.chain_id,
                address=asset.address,
                kind=asset.kind,  # type: ignore[arg-type]
                mode=asset.mode,  # type: ignore[arg-type]
                name=asset.name,
                symbol=asset.symbol,
                decimals=asset.decimals,
                terms=asset.terms,
                deployed_block=asset.deployed_block,
                identity_registry=asset.identity_registry,
                status=asset.status,  # type: ignore[arg-type]
            )


def assert_equals_fresh_index(db: Database, indexer: Indexer, fresh: Database, *, copy: bool = True) -> None:
    """The index equals what a second indexer writes into ``fresh`` (no derived rows) from the same
    chain; ``copy`` catalogues the same contracts there first."""
    head = dump(db, indexer.chain)["indexer_state"][0][1]
    if copy:
        copy_catalogue(db, fresh)
    Indexer(
        fresh, indexer.chain, indexer.w3, governance=indexer._governance, validator_votes=indexer._votes
    ).sync(to_block=head)
    ours, theirs = dump(db, indexer.chain), dump(fresh, indexer.chain)
    for table in ours:
        assert ours[table] == theirs[table], f"table {table} differs from a fresh re-index"


def assert_matches_contract(db: Database, asset_id: str, token: Contract, wallets: Sequence[str]) -> None:
    """The index's cap table now equals what the contract says, wallet by wallet, and its supply."""
    with db.read() as session:
        entries: dict[str, queries.CapTableEntry] = {}
        page = queries.cap_table(session, asset_id, limit=1000)
        entries.update({e.wallet: e for e in page.entries})
        supply = page.total_supply
        block = page.block.number
    assert supply == token.functions.totalSupply().call(block_identifier=block)
    regulated = any(item.get("name") == "getFrozenTokens" for item in token.abi)
    for wallet in wallets:
        balance = token.functions.balanceOf(wallet).call(block_identifier=block)
        entry = entries.get(wallet)
        assert (entry.balance if entry else 0) == balance, f"balance of {wallet}"
        if regulated and entry is not None:
            assert entry.frozen == token.functions.getFrozenTokens(wallet).call(block_identifier=block)
            assert entry.account_frozen == token.functions.isAccountFrozen(wallet).call(
                block_identifier=block
            )
    with db.read() as session:
        for wallet in wallets:
            # Wallets without a positive raw balance are not in the cap table; their frozen state is indexed.
            if wallet in entries or not regulated:
                continue
            holding = _holding_now(session, asset_id, wallet)
            frozen = token.functions.getFrozenTokens(wallet).call(block_identifier=block)
            flag = token.functions.isAccountFrozen(wallet).call(block_identifier=block)
            scale = queries.asset_state_at(session, asset_id, block)[0]
            assert (holding[0] // scale if holding else 0) == frozen, f"frozen of {wallet}"
            assert (holding[1] if holding else False) == flag, f"freeze flag of {wallet}"


def _holding_now(session: Any, asset_id: str, wallet: str) -> tuple[int, bool] | None:
    from registry.index.models import FOREVER, Holding

    row = session.scalars(
        select(Holding).where(
            Holding.asset_id == asset_id, Holding.wallet == wallet, Holding.block_to == FOREVER
        )
    ).first()
    return None if row is None else (row.frozen_raw, row.account_frozen)
