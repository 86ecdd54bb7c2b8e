"""The catalogue the services write: validation (field named, nothing written), idempotence, stable ids."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from registry.errors import AssetExistsError, InvalidInputError, UnknownAssetError
from registry.index import Database, catalogue
from registry.index.models import Asset, IdentityRegistry

TOKEN = "0x" + "12" * 20
REGISTRY = "0x" + "1d" * 20


def _asset(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "chain": "permissioned",
        "chain_id": 771_001,
        "address": TOKEN,
        "kind": "bond",
        "mode": "kyc",
        "name": "ACME 5% 2030",
        "symbol": "ACME30",
        "decimals": 0,
        "terms": {"isin": "XS0000000001", "couponRate": 500},
        "deployed_block": 12,
        "identity_registry": REGISTRY,
    }
    fields.update(overrides)
    return fields


def test_an_asset_gets_a_stable_id_and_its_identity_registry_is_followed(sqlite_db: Database) -> None:
    with sqlite_db.write() as session:
        record = catalogue.add_asset(session, **_asset())
    assert record.asset_id == catalogue.asset_id_for("bond", 771_001, TOKEN)
    assert record.asset_id.startswith("bond-") and len(record.asset_id) == len("bond-") + 20
    assert record.asset_id != catalogue.asset_id_for("bond", 771_002, TOKEN)
    assert record.address == "0x1212121212121212121212121212121212121212"
    with sqlite_db.read() as session:
        assert catalogue.get_asset(session, record.asset_id) == record
        assert catalogue.find_asset(session, "permissioned", TOKEN.upper().replace("0X", "0x")) == record
        (registry,) = catalogue.list_identity_registries(session)
        assert (registry.chain, registry.address.lower(), registry.from_block) == (
            "permissioned",
            REGISTRY,
            0,
        )


def test_cataloguing_the_same_asset_again_is_harmless_and_other_data_is_refused(sqlite_db: Database) -> None:
    with sqlite_db.write() as session:
        first = catalogue.add_asset(session, **_asset())
    with sqlite_db.write() as session:
        assert catalogue.add_asset(session, **_asset()) == first
    with pytest.raises(AssetExistsError, match="one contract is one asset"), sqlite_db.write() as session:
        catalogue.add_asset(session, **_asset(symbol="OTHER"))
    with sqlite_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Asset)) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("chain", "mainnet", "the chains are permissioned, permissionless"),
        ("address", "0x1234", "20-byte address"),
        ("kind", "option", "an asset is one of bond, stock, cash"),
        ("mode", "strict", "'kyc' or 'open'"),
        ("identity_registry", None, "needs the identity registry"),
        ("name", "  ", "non-empty text"),
        ("decimals", 78, "0 to 77"),
        ("deployed_block", -1, "integer >= 0"),
        ("chain_id", 0, "positive integer"),
        ("terms", {"rate": Decimal("0.05")}, "must be JSON"),
        ("terms", {"rate": float("nan")}, "must be JSON"),
        ("status", "sold", "a status is one of"),
    ],
)
def test_invalid_input_names_the_field_and_writes_nothing(
    sqlite_db: Database, field: str, value: object, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught, sqlite_db.write() as session:
        catalogue.add_asset(session, **_asset(**{field: value}))
    assert caught.value.field == field
    with sqlite_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Asset)) == 0
        assert session.scalar(select(func.count()).select_from(IdentityRegistry)) == 0


def test_unknown_assets_lists_and_status(sqlite_db: Database) -> None:
    with sqlite_db.write() as session:
        bond = catalogue.add_asset(session, **_asset())
        cash = catalogue.add_asset(
            session,
            **_asset(
                chain="permissionless",
                chain_id=771_002,
                kind="cash",
                mode="open",
                identity_registry=None,
                deployed_block=3,
            ),
        )
    with sqlite_db.read() as session:
        with pytest.raises(UnknownAssetError, match="looks like 'bond-'"):
            catalogue.get_asset(session, "ACME")
        assert [a.asset_id for a in catalogue.list_assets(session)] == [bond.asset_id, cash.asset_id]
        assert [a.asset_id for a in catalogue.list_assets(session, chain="permissionless")] == [cash.asset_id]
        assert [a.asset_id for a in catalogue.list_assets(session, kind="bond")] == [bond.asset_id]
    with sqlite_db.write() as session:
        assert catalogue.set_asset_status(session, bond.asset_id, "redeemed").status == "redeemed"
        with pytest.raises(UnknownAssetError):
            catalogue.set_asset_status(session, "bond-00000000000000000000", "redeemed")
