"""What the routers of an asset's operations share (coupons, dividends, corporate actions): who may run
them, the units of the asset's cash token, reading a mined transaction's events, and waiting for the index.

**Read your writes.** Every operation here answers once the index holds the block of its transaction
(`landed`), so a ``GET`` right after it (``/coupons``, ``/dividends``, ``/events``) sees it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

from eth_utils.address import to_checksum_address
from sqlalchemy.orm import Session
from web3.logs import DISCARD

from api.errors import ApiProblemError
from api.schemas.common import TransactionPublic, decode_cursor, encode_cursor, format_amount, parse_amount
from api.schemas.distributions import ClaimedPublic, SweptPublic
from api.security import Principal
from registry.access.keys import Role
from registry.custody.transactions import TxOutcome
from registry.errors import BlockNotIndexedError, IndexBehindError, InvalidInputError, StaleCursorError
from registry.index import catalogue, queries
from registry.index.catalogue import AssetRecord
from registry.index.models import Block
from registry.roles import require_role
from registry.runtime import Registry

logger = logging.getLogger("api.asset_ops")

INDEX_WAIT_SECONDS: Final = 10.0
"""How long an operation waits for the index to hold its transaction's block before answering anyway."""

ISSUERS: Final[tuple[Role, ...]] = ("admin", "issuer")
"""Who runs an asset's operations: its issuer (`Principal.require_asset`) and admins."""
CLAIMERS: Final[tuple[Role, ...]] = ("admin", "issuer", "investor")
"""Who claims: holders (investor keys, for their wallets), the paying agent (the issuer), admins."""
HOLDERS: Final[tuple[Role, ...]] = ("admin", "investor")
"""Who redeems: holders (investor keys, from their wallets) and admins."""

SENDING = (
    " Send an Idempotency-Key to retry safely; the answer comes once the index holds the transaction, so a "
    "GET right after it sees it. To sign with your own wallet, use the `/prepare` twin and POST "
    "/transactions."
)
"""What every sending operation's description ends with."""


@dataclass(frozen=True)
class PagePosition:
    """Where a page of payments starts: after which id (-1: the first page), as of which indexed block."""

    after: int
    block: int


def page_position(session: Session, chain: str, cursor: str | None, block: int | None) -> PagePosition:
    """The position of the page asked for: the cursor's (its block must still be canonical), else the
    first page as of ``block`` (default: the index's head).

    Raises:
        InvalidInputError (422 ``cursor``): not a cursor of such a list.
        StaleCursorError (409): a rollback replaced the cursor's block; ask for the first page again.
        BlockNotIndexedError (404): ``block`` is not indexed (yet).
    """
    if cursor is None:
        number = block if block is not None else queries.index_head(session, chain).number
        if session.get(Block, (chain, number)) is None:
            raise BlockNotIndexedError(f"block {number} of the {chain} chain is not in the index")
        return PagePosition(-1, number)
    payload = decode_cursor(cursor, "after", "block", "hash")
    try:
        after, number, block_hash = int(payload["after"]), int(payload["block"]), str(payload["hash"])
    except (TypeError, ValueError):
        raise InvalidInputError(
            "cursor", "not a cursor of this list: pass the next_cursor of the previous page as it is"
        ) from None
    row = session.get(Block, (chain, number))
    if row is None or row.hash != block_hash:
        raise StaleCursorError(
            f"the cursor's block {number} of the {chain} chain was replaced by a rollback; ask for the first "
            "page again"
        )
    return PagePosition(after, number)


def next_page(session: Session, chain: str, last_id: int, block: int) -> str:
    """The cursor of the page after the one ending at ``last_id``, pinned to ``block`` (and its hash)."""
    row = session.get(Block, (chain, block))
    return encode_cursor({"after": last_id, "block": block, "hash": row.hash if row is not None else ""})


def operated(
    registry: Registry, caller: Principal, asset_id: str, kind: str, sender: str | None
) -> tuple[AssetRecord, str]:
    """The asset ``asset_id`` (of ``kind``) that ``caller`` may operate, and the address to send as.

    Raises:
        UnknownAssetError (404), InvalidInputError (422: another kind of asset), ApiProblemError
        scope-forbidden (403: not the caller's asset or address).
    """
    asset = registry.context.asset(asset_id, kinds=(kind,))
    caller.require_asset(registry, asset.asset_id)
    return asset, caller.sender(sender)


def claimer(
    registry: Registry, caller: Principal, asset: AssetRecord, holder: str | None, sender: str | None
) -> tuple[str, str | None]:
    """Who sends a claim and, when it is a claim on behalf, for which holder (None: the sender's own).

    The contracts let a claim on behalf come from the wallet paid or the paying agent (SUPPLY_ROLE) only
    (README, "Claims on behalf"). So an investor key claims from its own wallets, for themselves; an issuer
    or admin key names a holder and claims for it as the asset's paying agent.

    Raises:
        ApiProblemError scope-forbidden (403): an investor names another's wallet, an issuer another's asset.
        RoleMissingError (403): the sender is not the asset's paying agent.
    """
    if caller.role == "investor":
        wallet = caller.sender(holder if holder is not None else sender, "holder" if holder else "sender")
        if sender is not None and holder is not None and to_checksum_address(sender) != wallet:
            raise ApiProblemError(
                "invalid-input",
                "holder: an investor claims from the wallet that is paid; leave sender out or make it "
                "the holder",
                field="holder",
            )
        return wallet, None
    account = caller.sender(sender)
    if holder is None or to_checksum_address(holder) == account:
        return account, None
    caller.require_asset(registry, asset.asset_id)
    require_role(
        registry.context.token(asset),
        "supply",
        account,
        what=f"{asset.asset_id} ({asset.symbol}) as paying agent",
    )
    return account, to_checksum_address(holder)


def cash_decimals(registry: Registry, asset: AssetRecord) -> int:
    """Decimals of ``asset``'s cash token (from the catalogue, else from the contract)."""
    currency = asset.terms.get("currency")
    if not isinstance(currency, str):
        return 0
    with registry.db.read() as session:
        cash = catalogue.find_asset(session, asset.chain, currency)
    if cash is not None:
        return cash.decimals
    token = registry.context.chain(asset.chain).contract("CashToken", currency)
    return int(token.functions.decimals().call())


def cash_amount(registry: Registry, asset: AssetRecord, text: str, field: str) -> int:
    """A decimal string of the asset's cash token, as raw units (422 naming ``field`` when malformed)."""
    return parse_amount(text, cash_decimals(registry, asset), field)


def event(registry: Registry, asset: AssetRecord, outcome: TxOutcome, name: str) -> dict[str, Any]:
    """The arguments of the first ``name`` event the asset's token logged in ``outcome``.

    Raises:
        LookupError: it logged none (the contract did not do what the operation expects).
    """
    token = registry.context.token(asset)
    found = getattr(token.events, name)().process_receipt(outcome.receipt, errors=DISCARD)
    if not found:
        raise LookupError(f"{outcome.hash_hex} logged no {name} of {asset.asset_id}")
    return dict(found[0]["args"])


def landed(registry: Registry, outcome: TxOutcome) -> None:
    """Return once the index holds ``outcome``'s block (see the module docstring), or after
    `INDEX_WAIT_SECONDS`: the transaction landed either way, so a slow index never turns its answer into an
    error (which would invite a retry of something done)."""
    try:
        registry.wait_for_index(outcome.chain, outcome.block_number, timeout=INDEX_WAIT_SECONDS)
    except IndexBehindError as exc:
        logger.warning("answering %s before the index holds its block: %s", outcome.hash_hex, exc)


def claimed(registry: Registry, asset: AssetRecord, outcome: TxOutcome, name: str) -> ClaimedPublic:
    """The answer to a claim (coupon or dividend): its ``name`` event read from ``outcome``, once indexed."""
    args = event(registry, asset, outcome, name)
    landed(registry, outcome)
    return ClaimedPublic(
        holder=to_checksum_address(args["holder"]),
        payee=to_checksum_address(args["payee"]),
        amount=format_amount(int(args["amount"]), cash_decimals(registry, asset)),
        transaction=TransactionPublic.of(outcome),
    )


def swept(registry: Registry, asset: AssetRecord, outcome: TxOutcome, name: str, funder: str) -> SweptPublic:
    """The answer to a sweep: its ``name`` event (``funder``: the argument naming who gets the cash back)."""
    args = event(registry, asset, outcome, name)
    landed(registry, outcome)
    return SweptPublic(
        funder=to_checksum_address(args[funder]),
        amount=format_amount(int(args["amount"]), cash_decimals(registry, asset)),
        transaction=TransactionPublic.of(outcome),
    )
