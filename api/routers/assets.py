"""Assets: issue a bond, a stock or a cash token (custodially, or prepared for the issuer to sign), list
the catalogue, read one asset with its terms."""

from __future__ import annotations

from typing import Annotated, Any

from eth_utils.address import is_address, to_checksum_address
from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import Response

from api.deps import ClockDep, IdempotencyDep, PageDep, PrincipalDep, RegistryDep
from api.prepared import operation, prepare
from api.schemas.assets import (
    ASSET_CREATE_EXAMPLES,
    AssetCreate,
    AssetIssuedPublic,
    AssetPublic,
    AssetsPublic,
    BondCreate,
    StockCreate,
)
from api.schemas.common import ChainName, TransactionPublic, decode_cursor, encode_cursor
from api.schemas.transactions import PreparedPublic
from api.security import EVERY_ROLE, Principal, allow
from registry.access.prepared import Prepared
from registry.assets.issuance import PreparedIssue
from registry.custody.transactions import TxOutcome
from registry.errors import InvalidInputError, UnknownAssetError
from registry.index import catalogue
from registry.index.catalogue import AssetRecord
from registry.runtime import Registry

TAG = {
    "name": "assets",
    "description": "Bonds, stocks and cash tokens: issue one on a chain (kyc or open mode), custodially or "
    "prepared for the issuer's own wallet to sign, and read the catalogue with each asset's terms.",
}

router = APIRouter(prefix="/assets", tags=["assets"])

AssetId = Annotated[
    str, Path(max_length=64, description="The asset's id.", examples=["bond-5f0c2a9d11e3b7a40c21"])
]
Creation = Annotated[AssetCreate, Body(openapi_examples=ASSET_CREATE_EXAMPLES)]

ISSUE = "assets.issue"


def _currency(registry: Registry, chain: str, value: str) -> AssetRecord:
    """The catalogued cash token ``value`` (an id or an address) names on ``chain``."""
    try:
        if value.startswith("cash-"):
            found: AssetRecord | None = registry.asset(value)
        elif is_address(value):
            with registry.db.read() as session:
                found = catalogue.find_asset(session, chain, to_checksum_address(value))
        else:
            found = None
    except UnknownAssetError:
        found = None
    if found is None or found.kind != "cash" or found.chain != chain:
        raise InvalidInputError(
            "terms.currency",
            f"{value!r} is no cash token of the catalogue on the {chain} chain: issue one first (kind cash) "
            "and name it by its asset id or address",
        )
    return found


def _prepared_issue(registry: Registry, caller: Principal, body: AssetCreate) -> PreparedIssue:
    issuer = caller.sender(body.issuer, "issuer")
    if isinstance(body, BondCreate):
        cash = _currency(registry, body.chain, body.terms.currency)
        terms: dict[str, Any] = body.terms.service_terms(cash.address, cash.decimals)
        return registry.bonds.prepare_issue(body.chain, body.mode, terms, issuer=issuer)
    if isinstance(body, StockCreate):
        cash = _currency(registry, body.chain, body.terms.currency)
        terms = body.terms.model_dump() | {"currency": cash.address}
        if terms["isin"] is None:
            del terms["isin"]
        return registry.stocks.prepare_issue(body.chain, body.mode, terms, issuer=issuer)
    return registry.cash.prepare_issue(body.chain, body.terms.model_dump(), issuer=issuer)


def asset_public(registry: Registry, asset: AssetRecord) -> AssetPublic:
    """The public form of ``asset``, its cash token resolved from the catalogue."""
    currency = asset.terms.get("currency")
    cash = None
    if isinstance(currency, str):
        with registry.db.read() as session:
            cash = catalogue.find_asset(session, asset.chain, currency)
    return AssetPublic.of(asset, cash)


@operation(ISSUE, AssetIssuedPublic, status_code=201)
def _complete_issue(registry: Registry, prepared: Prepared, outcome: TxOutcome) -> AssetIssuedPublic:
    asset = registry.complete_issue(PreparedIssue.from_json(prepared.context["issue"]), outcome)
    return AssetIssuedPublic(asset=asset_public(registry, asset), transaction=TransactionPublic.of(outcome))


@router.post(
    "",
    status_code=201,
    response_model=AssetIssuedPublic,
    dependencies=[allow("admin", "issuer")],
    summary="Issue an asset",
    description="Deploys a bond, a stock or a cash token on the chosen chain, signed by custody as the "
    "issuer (one of the key's addresses; an admin names any address custody holds), and catalogues it. "
    "The terms are checked first (ISIN check digit, dates, amounts in the cash token's units, coupon "
    "frequency...): a bad term is 422 naming it, and nothing is sent. The issuer becomes the token's admin "
    "with every role. To sign with your own wallet instead, use POST /assets/prepare.",
)
def issue_asset(
    body: Creation, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep
) -> Response:
    """Issue an asset."""

    def work() -> AssetIssuedPublic:
        issued = registry.issuer.issue(_prepared_issue(registry, caller, body))
        return AssetIssuedPublic(
            asset=asset_public(registry, issued.asset), transaction=TransactionPublic.of(issued.outcome)
        )

    return idem.run(work, status_code=201)


@router.post(
    "/prepare",
    status_code=201,
    dependencies=[allow("admin", "issuer")],
    summary="Prepare an asset's issue for the issuer to sign",
    description="The non-custodial twin of POST /assets: the same checks, then the contract creation as an "
    "unsigned EIP-1559 transaction for the issuer to sign. Post the signed transaction to POST "
    "/transactions with the `prepared_id`: the answer is the same as POST /assets'.",
)
def prepare_issue(
    body: Creation, registry: RegistryDep, caller: PrincipalDep, now: ClockDep
) -> PreparedPublic:
    """Prepare an asset's issue for the issuer to sign."""
    issue = _prepared_issue(registry, caller, body)
    return prepare(registry, caller, ISSUE, issue.transaction, now=now, context={"issue": issue.to_json()})


@router.get(
    "",
    dependencies=[allow(*EVERY_ROLE)],
    summary="List assets",
    description="The catalogue, by asset id, optionally of one chain or kind.",
)
def list_assets(
    registry: RegistryDep,
    page: PageDep,
    chain: Annotated[ChainName | None, Query(description="Only this chain's assets.")] = None,
    kind: Annotated[
        str | None, Query(pattern="^(bond|stock|cash)$", description="Only bonds, stocks or cash tokens.")
    ] = None,
) -> AssetsPublic:
    """List assets."""
    after = str(decode_cursor(page.cursor, "after")["after"]) if page.cursor else None
    found = sorted(registry.assets(chain=chain, kind=kind), key=lambda asset: asset.asset_id)
    if after is not None:
        found = [asset for asset in found if asset.asset_id > after]
    items = found[: page.limit]
    return AssetsPublic(
        items=[asset_public(registry, asset) for asset in items],
        next_cursor=encode_cursor({"after": items[-1].asset_id}) if len(found) > page.limit else None,
    )


@router.get(
    "/{asset_id}",
    dependencies=[allow(*EVERY_ROLE)],
    summary="One asset",
    description="A catalogued asset with its terms.",
)
def get_asset(asset_id: AssetId, registry: RegistryDep) -> AssetPublic:
    """One asset."""
    return asset_public(registry, registry.asset(asset_id))
