"""The catalogue: the assets the registry issued and the identity registries it follows.

The services record what they deploy here, in the same database as the index; the indexer follows
every catalogued contract of its chain from its first block on (a contract catalogued after the
indexer passed its deployment is caught up from there). The catalogue is input, not derived: a
rollback never changes it.

    with db.write() as session:
        asset = add_asset(session, chain="permissioned", chain_id=771001, address=token.address,
                          kind="bond", mode="kyc", name="ACME 5% 2030", symbol="ACME30", decimals=0,
                          terms=terms.model_dump(mode="json"), deployed_block=receipt.blockNumber,
                          identity_registry=IDENTITY_REGISTRY)
    asset.asset_id     # "bond-5f0c…", stable: derived from the chain id and the contract address

Every function validates its arguments before writing (`InvalidInputError` naming the field) and
writes nothing else; the caller's transaction (`Database.write`) commits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from eth_utils.address import is_address, to_checksum_address
from eth_utils.crypto import keccak
from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.chain.names import CHAIN_NAMES
from registry.errors import AssetExistsError, InvalidInputError, UnknownAssetError
from registry.index.models import Asset, IdentityRegistry

AssetKind = Literal["bond", "stock", "cash"]
"""What a catalogued asset is."""

AssetMode = Literal["kyc", "open"]
"""How a regulated token checks transfers (cash tokens are ``open``)."""

AssetStatus = Literal["active", "called", "matured", "redeemed", "retired"]
"""Where an asset stands in its life (set by the services; the index does not infer it)."""

KIND_ARTIFACTS: Final[dict[str, str]] = {"bond": "BondToken", "stock": "StockToken", "cash": "CashToken"}
"""The contract artifact of each asset kind."""

_ASSET_ID = re.compile(r"^[a-z]+-[0-9a-f]{20}$")


@dataclass(frozen=True)
class AssetRecord:
    """A catalogued asset, as the catalogue functions return it."""

    asset_id: str
    chain: str
    chain_id: int
    address: str
    kind: str
    mode: str
    name: str
    symbol: str
    decimals: int
    terms: dict[str, Any]
    deployed_block: int
    identity_registry: str | None
    status: str

    @classmethod
    def of(cls, row: Asset) -> AssetRecord:
        """The record of a catalogue row."""
        return cls(
            asset_id=row.asset_id,
            chain=row.chain,
            chain_id=row.chain_id,
            address=row.address,
            kind=row.kind,
            mode=row.mode,
            name=row.name,
            symbol=row.symbol,
            decimals=row.decimals,
            terms=dict(row.terms),
            deployed_block=row.deployed_block,
            identity_registry=row.identity_registry,
            status=row.status,
        )


@dataclass(frozen=True)
class IdentityRegistryRecord:
    """A catalogued identity registry."""

    chain: str
    chain_id: int
    address: str
    from_block: int
    label: str | None


def asset_id_for(kind: str, chain_id: int, address: str) -> str:
    """The stable id of the ``kind`` asset at ``address`` on chain ``chain_id``: ``<kind>-<20 hex digits>``,
    the start of keccak256 over the chain id (32 bytes) and the address (20 bytes)."""
    digest = keccak(int(chain_id).to_bytes(32, "big") + bytes.fromhex(_address("address", address)[2:]))
    return f"{kind}-{digest.hex()[:20]}"


def add_asset(
    session: Session,
    *,
    chain: str,
    chain_id: int,
    address: str,
    kind: AssetKind,
    mode: AssetMode,
    name: str,
    symbol: str,
    decimals: int,
    terms: Mapping[str, Any],
    deployed_block: int,
    identity_registry: str | None = None,
    status: AssetStatus = "active",
) -> AssetRecord:
    """Catalogue the asset deployed at ``address`` in block ``deployed_block`` of ``chain``.

    ``terms`` must be JSON (e.g. a pydantic model's ``model_dump(mode="json")``). A ``kyc`` asset
    names its ``identity_registry``, which is catalogued too if it is not yet (followed from block 0,
    which also finds investors registered in genesis). Cataloguing the same asset again with the same
    data returns the existing record (a retry after a crash is harmless).

    Raises:
        InvalidInputError: an argument is invalid (``field`` names it).
        AssetExistsError: the catalogue holds another asset at that chain and address, or the same
            asset with other data.
    """
    chain_name = _chain(chain)
    checksum = _address("address", address)
    if kind not in get_args(AssetKind):
        raise InvalidInputError("kind", f"an asset is one of {', '.join(get_args(AssetKind))}; got {kind!r}")
    if mode not in get_args(AssetMode):
        raise InvalidInputError("mode", f"an asset's mode is 'kyc' or 'open'; got {mode!r}")
    if status not in get_args(AssetStatus):
        raise InvalidInputError(
            "status", f"a status is one of {', '.join(get_args(AssetStatus))}; got {status!r}"
        )
    registry = _address("identity_registry", identity_registry) if identity_registry is not None else None
    if mode == "kyc" and registry is None:
        raise InvalidInputError("identity_registry", "a kyc-mode asset needs the identity registry it checks")
    _text("name", name, 200)
    _text("symbol", symbol, 64)
    if not isinstance(decimals, int) or not 0 <= decimals <= 77:
        raise InvalidInputError("decimals", f"decimals is an integer from 0 to 77; got {decimals!r}")
    _block("deployed_block", deployed_block)
    _positive("chain_id", chain_id)
    terms_json = _json("terms", terms)
    record = AssetRecord(
        asset_id=asset_id_for(kind, chain_id, checksum),
        chain=chain_name,
        chain_id=chain_id,
        address=checksum,
        kind=kind,
        mode=mode,
        name=name,
        symbol=symbol,
        decimals=decimals,
        terms=terms_json,
        deployed_block=deployed_block,
        identity_registry=registry,
        status=status,
    )
    existing = session.scalars(
        select(Asset).where(Asset.chain == chain_name, Asset.address == checksum)
    ).first()
    if existing is not None:
        if AssetRecord.of(existing) == record:
            return record
        raise AssetExistsError(
            f"the catalogue already holds asset {existing.asset_id} ({existing.kind} {existing.symbol}) at "
            f"{checksum} on the {chain_name} chain, with other data; one contract is one asset"
        )
    if registry is not None and session.get(IdentityRegistry, (chain_name, registry)) is None:
        add_identity_registry(session, chain=chain_name, chain_id=chain_id, address=registry, from_block=0)
    session.add(
        Asset(
            asset_id=record.asset_id,
            chain=record.chain,
            chain_id=record.chain_id,
            address=record.address,
            kind=record.kind,
            mode=record.mode,
            name=record.name,
            symbol=record.symbol,
            decimals=record.decimals,
            terms=record.terms,
            deployed_block=record.deployed_block,
            identity_registry=record.identity_registry,
            status=record.status,
        )
    )
    session.flush()
    return record


def get_asset(session: Session, asset_id: str) -> AssetRecord:
    """The catalogued asset ``asset_id``.

    Raises:
        UnknownAssetError: no asset has that id.
    """
    row = session.get(Asset, asset_id)
    if row is None:
        hint = "" if _ASSET_ID.match(asset_id) else " (an asset id looks like 'bond-' and 20 hex digits)"
        raise UnknownAssetError(f"no catalogued asset has the id {asset_id!r}{hint}")
    return AssetRecord.of(row)


def find_asset(session: Session, chain: str, address: str) -> AssetRecord | None:
    """The asset catalogued at ``address`` on ``chain``, if any."""
    row = session.scalars(
        select(Asset).where(Asset.chain == _chain(chain), Asset.address == _address("address", address))
    ).first()
    return None if row is None else AssetRecord.of(row)


def list_assets(session: Session, *, chain: str | None = None, kind: str | None = None) -> list[AssetRecord]:
    """Every catalogued asset (of ``chain`` and ``kind`` when given), by chain then deployment block."""
    query = select(Asset).order_by(Asset.chain, Asset.deployed_block, Asset.asset_id)
    if chain is not None:
        query = query.where(Asset.chain == _chain(chain))
    if kind is not None:
        query = query.where(Asset.kind == kind)
    return [AssetRecord.of(row) for row in session.scalars(query)]


def set_asset_status(session: Session, asset_id: str, status: AssetStatus) -> AssetRecord:
    """Record that asset ``asset_id`` is now ``status``.

    Raises:
        UnknownAssetError: no asset has that id.
        InvalidInputError: ``status`` is not one of `AssetStatus`.
    """
    if status not in get_args(AssetStatus):
        raise InvalidInputError(
            "status", f"a status is one of {', '.join(get_args(AssetStatus))}; got {status!r}"
        )
    row = session.get(Asset, asset_id)
    if row is None:
        get_asset(session, asset_id)  # raises with the hint
        raise AssertionError("unreachable")
    row.status = status
    session.flush()
    return AssetRecord.of(row)


def add_identity_registry(
    session: Session, *, chain: str, chain_id: int, address: str, from_block: int, label: str | None = None
) -> IdentityRegistryRecord:
    """Follow the identity registry at ``address`` on ``chain`` from block ``from_block`` (its deployment;
    0 for one created in genesis, whose investors are then read from the genesis state). Adding it again
    returns the existing record.

    Raises:
        InvalidInputError: an argument is invalid.
    """
    chain_name = _chain(chain)
    checksum = _address("address", address)
    _block("from_block", from_block)
    _positive("chain_id", chain_id)
    if label is not None:
        _text("label", label, 200)
    existing = session.get(IdentityRegistry, (chain_name, checksum))
    if existing is None:
        existing = IdentityRegistry(
            chain=chain_name, address=checksum, chain_id=chain_id, from_block=from_block, label=label
        )
        session.add(existing)
        session.flush()
    return IdentityRegistryRecord(
        chain=existing.chain,
        chain_id=existing.chain_id,
        address=existing.address,
        from_block=existing.from_block,
        label=existing.label,
    )


def list_identity_registries(session: Session, *, chain: str | None = None) -> list[IdentityRegistryRecord]:
    """Every catalogued identity registry (of ``chain`` when given)."""
    query = select(IdentityRegistry).order_by(IdentityRegistry.chain, IdentityRegistry.address)
    if chain is not None:
        query = query.where(IdentityRegistry.chain == _chain(chain))
    return [
        IdentityRegistryRecord(
            chain=row.chain,
            chain_id=row.chain_id,
            address=row.address,
            from_block=row.from_block,
            label=row.label,
        )
        for row in session.scalars(query)
    ]


# ---------------------------------------------------------------------------------------------- checks


def _chain(chain: str) -> str:
    if chain not in CHAIN_NAMES:
        raise InvalidInputError("chain", f"the chains are {', '.join(CHAIN_NAMES)}; got {chain!r}")
    return chain


def _address(field: str, value: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise InvalidInputError(field, f"expected a 20-byte address as 0x-prefixed hex; got {value!r}")
    return to_checksum_address(value)


def _text(field: str, value: str, limit: int) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidInputError(
            field, f"expected a non-empty text of at most {limit} characters; got {value!r}"
        )


def _block(field: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInputError(field, f"expected a block number (an integer >= 0); got {value!r}")


def _positive(field: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidInputError(field, f"expected a positive integer; got {value!r}")


def _json(field: str, value: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(field, f"expected a mapping of JSON values; got {type(value).__name__}")
    try:
        loaded: dict[str, Any] = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            field, f"must be JSON (dump pydantic models with mode='json'): {exc}"
        ) from exc
    return loaded
