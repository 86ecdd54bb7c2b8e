"""What the registry routes share beyond `api.security`: an investor key's scope over investor records, and
reading one's own writes (a route that sent a transaction waits until the index holds its block, so the
next read of holdings, cap tables or freezes shows it)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from api.errors import ApiProblemError
from api.security import Principal
from registry.custody.transactions import TxOutcome
from registry.errors import IndexBehindError, InvalidInputError
from registry.runtime import Registry

logger = logging.getLogger(__name__)

INDEX_WAIT_SECONDS = 10.0
"""How long a write waits for the index before answering anyway (the transaction has landed)."""


def await_index(registry: Registry, outcome: TxOutcome) -> None:
    """Wait until the index of ``outcome``'s chain holds its block. A slow index does not turn a landed
    transaction into an error: the answer still carries the transaction, and the index catches up."""
    try:
        registry.wait_for_index(outcome.chain, outcome.block_number, timeout=INDEX_WAIT_SECONDS)
    except IndexBehindError as exc:
        logger.warning("answering before the index holds block %s: %s", outcome.block_number, exc)


def own_investor_ids(registry: Registry, caller: Principal, chain: str) -> set[int]:
    """The investors of ``chain``'s identity registry that an investor key's addresses belong to."""
    if registry.registries.address(chain) is None:
        return set()
    found = {registry.investors.investor_of(chain, address) for address in caller.key.addresses}
    return found - {0}


def require_investor_scope(registry: Registry, caller: Principal, chain: str, investor_id: int) -> None:
    """An investor key reads only the investor its addresses belong to (403 ``scope-forbidden``); other
    roles pass."""
    if caller.role != "investor":
        return
    if investor_id not in own_investor_ids(registry, caller, chain):
        raise ApiProblemError(
            "scope-forbidden",
            f"this investor key reads only its own investor record and holdings; its addresses "
            f"({', '.join(caller.key.addresses) or 'none bound'}) do not belong to investor {investor_id} "
            f"on the {chain} chain",
        )


def timestamp(value: datetime, field: str) -> int:
    """``value`` as Unix seconds (a time without an offset is UTC)."""
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    try:
        return int(moment.timestamp())
    except (OverflowError, OSError, ValueError):
        raise InvalidInputError(field, f"{value.isoformat()} is out of range") from None
