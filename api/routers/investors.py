"""Investors: KYC onboarding on a chain's identity registry (register, change, revoke, link and unlink
wallets), custodially or prepared for the KYC provider's own wallet; read investors with their KYC state."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from web3.logs import DISCARD

from api.deps import ClockDep, IdempotencyDep, PageDep, PrincipalDep, RegistryDep
from api.errors import not_found
from api.prepared import operation, prepare
from api.schemas.common import ChainName, TransactionPublic, decode_cursor, encode_cursor
from api.schemas.countries import country_code
from api.schemas.investors import (
    InvestorChangedPublic,
    InvestorCreate,
    InvestorCreatedPublic,
    InvestorPublic,
    InvestorsPublic,
    InvestorUpdate,
    SenderOnly,
    WalletCreate,
)
from api.schemas.transactions import PreparedPublic
from api.scope import await_index, require_investor_scope, timestamp
from api.security import EVERY_ROLE, Principal, allow
from api.sending import Built, Doc, Sent, sending
from registry.access.prepared import Prepared
from registry.chain.names import CHAIN_NAMES
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.errors import InvalidInputError
from registry.index.queries import kyc_status
from registry.investors.onboarding import InvestorRecord
from registry.runtime import Registry

TAG = {
    "name": "investors",
    "description": "KYC onboarding: investors of each chain's identity registry, their wallets, country, "
    "accreditation and KYC expiry; register, change, revoke (final), link and unlink wallets, custodially or "
    "prepared for the KYC provider's own wallet. Each investor is read with its KYC state (verified, "
    "expired, revoked).",
}

router = APIRouter(prefix="/investors", tags=["investors"])

ONBOARDING = allow("admin", "kyc-provider")
READERS = tuple(role for role in EVERY_ROLE if role != "investor")

Chain = Annotated[ChainName, Path(description="The chain of the identity registry.")]
InvestorId = Annotated[
    int, Path(ge=1, le=2**32 - 1, description="The investor's id in that registry.", examples=[3])
]
Wallet = Annotated[
    str,
    Path(
        description="A wallet address (0x and 40 hex digits).",
        examples=["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"],
    ),
]
SenderQuery = Annotated[
    str | None,
    Query(
        max_length=42,
        description="The KYC provider's signing address (may be left out when the key has one; an admin "
        "key names it).",
    ),
]

REGISTER = "investors.register"
UPDATE = "investors.update"
REVOKE = "investors.revoke"
ADD_WALLET = "investors.add_wallet"
REMOVE_WALLET = "investors.remove_wallet"


def investor_public(registry: Registry, record: InvestorRecord) -> InvestorPublic:
    """The public form of ``record``, its KYC state at its chain's time now."""
    now = registry.context.chain(record.chain).now()
    return InvestorPublic.of(record, kyc_status(record.revoked, record.kyc_expiry, now))


def load_investor(registry: Registry, chain: str, investor_id: int) -> InvestorRecord:
    """Investor ``investor_id`` of ``chain`` (404 when there is none, or the chain has no registry)."""
    if registry.registries.address(chain) is None:
        raise not_found(
            "investor", f"the {chain} chain has no identity registry yet, so no investor {investor_id}"
        )
    return registry.investors.investor(chain, investor_id)


def _expiry(registry: Registry, chain: str, body: InvestorCreate | InvestorUpdate) -> int | None:
    if body.kyc_expires_at is None:
        return None
    stamp = timestamp(body.kyc_expires_at, "kyc_expires_at")
    now = registry.context.chain(chain).now()
    if stamp <= now:
        raise InvalidInputError(
            "kyc_expires_at", f"a KYC expiry must be after the chain's time ({now}); got {stamp}"
        )
    return stamp


def _changed(registry: Registry, sent: Sent) -> InvestorChangedPublic:
    await_index(registry, sent.outcome)
    chain, investor_id = str(sent.context["chain"]), int(sent.context["investor_id"])
    return InvestorChangedPublic(
        investor=investor_public(registry, registry.investors.investor(chain, investor_id)),
        transaction=TransactionPublic.of(sent.outcome),
    )


def _investor_change(chain: str, investor_id: int, tx: PreparedTransaction) -> Built:
    return Built(tx, {"chain": chain, "investor_id": investor_id})


def _registered_id(registry: Registry, chain: str, outcome: TxOutcome) -> int:
    address = registry.registries.require(chain)
    contract = registry.context.chain(chain).contract("IdentityRegistry", address)
    events = contract.events.InvestorRegistered().process_receipt(outcome.receipt, errors=DISCARD)
    return int(events[0]["args"]["investorId"])


def _created(registry: Registry, chain: str, outcomes: list[TxOutcome]) -> InvestorCreatedPublic:
    investor_id = _registered_id(registry, chain, outcomes[0])
    await_index(registry, outcomes[-1])
    public = investor_public(registry, registry.investors.investor(chain, investor_id))
    transactions = [TransactionPublic.of(outcome) for outcome in outcomes]
    return InvestorCreatedPublic(
        **public.model_dump(), transaction=transactions[0], transactions=transactions
    )


def _complete_register(registry: Registry, prepared: Prepared, outcome: TxOutcome) -> InvestorCreatedPublic:
    return _created(registry, str(prepared.context["chain"]), [outcome])


def _registration(body: InvestorCreate, registry: Registry, caller: Principal) -> dict[str, Any]:
    return {
        "country": country_code(body.country),
        "expiry": _expiry(registry, body.chain, body),
        "accredited": body.accredited,
        "professional": body.professional,
        "sender": caller.sender(body.sender),
    }


@router.post(
    "",
    status_code=201,
    response_model=InvestorCreatedPublic,
    dependencies=[ONBOARDING],
    summary="Register an investor",
    description="Registers a new investor in the chain's identity registry with its wallets (the first "
    "becomes its permanent key wallet; each further one is linked by a transaction of its own), its country "
    "(ISO 3166 numeric or alpha-2), accreditation and KYC expiry, signed by custody as the KYC provider. "
    "Every wallet is checked first (a wallet that belongs to an investor already is 409 and nothing is "
    "sent); a bad field is 422 naming it. On the permissionless chain the first registration deploys the "
    "registry. A server stopped between those transactions leaves the investor with the wallets linked so "
    "far: a retry with the same Idempotency-Key answers 409 naming what was sent, and POST "
    "/investors/{chain}/{investor_id}/wallets links the rest. To sign with your own wallet, use POST "
    "/investors/prepare (one wallet).",
)
def register_investor(
    body: InvestorCreate, registry: RegistryDep, caller: PrincipalDep, idem: IdempotencyDep
) -> Response:
    """Register an investor."""

    def work() -> InvestorCreatedPublic:
        registration = registry.investors.register(
            body.chain, [str(wallet) for wallet in body.wallets], **_registration(body, registry, caller)
        )
        return _created(registry, body.chain, list(registration.outcomes))

    return idem.run(work, status_code=201)


@router.post(
    "/prepare",
    status_code=201,
    dependencies=[ONBOARDING],
    summary="Prepare an investor's registration for the KYC provider to sign",
    description="The non-custodial twin of POST /investors, for one wallet (link more afterwards with POST "
    "/investors/{chain}/{investor_id}/wallets/prepare): the same checks, then the registration as an "
    "unsigned transaction. Post it signed to POST /transactions: the answer is POST /investors' answer.",
)
def prepare_register(
    body: InvestorCreate, registry: RegistryDep, caller: PrincipalDep, now: ClockDep
) -> PreparedPublic:
    """Prepare an investor's registration for the KYC provider to sign."""
    if len(body.wallets) != 1:
        raise InvalidInputError(
            "wallets",
            "a prepared registration carries one wallet: register with the first, then link each other "
            "with POST /investors/{chain}/{investor_id}/wallets/prepare",
        )
    tx = registry.investors.prepare_register(
        body.chain, str(body.wallets[0]), **_registration(body, registry, caller)
    )
    return prepare(registry, caller, REGISTER, tx, now=now, context={"chain": body.chain})


@router.get(
    "",
    dependencies=[allow(*READERS)],
    summary="List investors",
    description="The investors of each chain's identity registry (or of one chain), by chain then id, with "
    "their wallets and KYC state, read from the registry on chain. Investor keys read only their own record.",
)
def list_investors(
    registry: RegistryDep,
    page: PageDep,
    chain: Annotated[ChainName | None, Query(description="Only this chain's investors.")] = None,
) -> InvestorsPublic:
    """List investors."""
    chains: list[str] = [
        name for name in CHAIN_NAMES if name in registry.context.chains and chain in (None, name)
    ]
    start_chain: str = chains[0] if chains else ""
    after = 0
    if page.cursor is not None:
        payload = decode_cursor(page.cursor, "chain", "after")
        if payload["chain"] not in chains or not isinstance(payload["after"], int):
            raise InvalidInputError("cursor", "this cursor continues another list: start without one")
        start_chain, after = str(payload["chain"]), int(payload["after"])
    items: list[InvestorPublic] = []
    more: tuple[str, int] | None = None
    for name in chains[chains.index(start_chain) :] if chains else []:
        count = registry.investors.investor_count(name)
        first = after + 1 if name == start_chain else 1
        for ident in range(first, count + 1):
            if len(items) == page.limit:
                more = (items[-1].chain, items[-1].investor_id)
                break
            items.append(investor_public(registry, registry.investors.investor(name, ident)))
        if more is not None:
            break
    cursor = encode_cursor({"chain": more[0], "after": more[1]}) if more is not None else None
    return InvestorsPublic(items=items, next_cursor=cursor)


@router.get(
    "/{chain}/{investor_id}",
    dependencies=[allow(*EVERY_ROLE)],
    summary="One investor",
    description="An investor with its wallets, country, accreditation, KYC expiry and KYC state "
    "(verified, expired or revoked) at the chain's time. An investor key reads only its own (403 otherwise); "
    "an unknown investor is 404.",
)
def get_investor(
    chain: Chain, investor_id: InvestorId, registry: RegistryDep, caller: PrincipalDep
) -> InvestorPublic:
    """One investor."""
    record = load_investor(registry, chain, investor_id)
    require_investor_scope(registry, caller, chain, investor_id)
    return investor_public(registry, record)


def _update(
    registry: Registry, caller: Principal, chain: Chain, investor_id: InvestorId, body: InvestorUpdate
) -> Built:
    changes = body.model_dump(exclude_unset=True, exclude={"sender"})
    if not changes or all(value is None for value in changes.values()):
        raise InvalidInputError(
            "body", "give at least one of country, kyc_expires_at, accredited, professional"
        )
    current = load_investor(registry, chain, investor_id)
    expiry = _expiry(registry, chain, body)
    if expiry is None:
        if current.kyc_expiry <= registry.context.chain(chain).now():
            raise InvalidInputError(
                "kyc_expires_at",
                f"investor {investor_id}'s KYC has expired: a change must renew it, give kyc_expires_at",
            )
        expiry = current.kyc_expiry
    tx = registry.investors.prepare_update(
        chain,
        investor_id,
        country=country_code(body.country) if body.country is not None else current.country,
        expiry=expiry,
        accredited=body.accredited if body.accredited is not None else current.accredited,
        professional=body.professional if body.professional is not None else current.professional,
        sender=caller.sender(body.sender),
    )
    return _investor_change(chain, investor_id, tx)


_UPDATE_DESCRIPTION = (
    "Changes an investor's country, accreditation or KYC expiry (a renewal) on all its wallets; fields left "
    "out keep their value. A revoked investor cannot be changed (409). An expired KYC must be renewed "
    "with the change."
)

sending(
    router,
    "/{chain}/{investor_id}",
    UPDATE,
    InvestorChangedPublic,
    method="PATCH",
    build=_update,
    answer=_changed,
    dependencies=[ONBOARDING],
    custodial=Doc("update_investor", "Change an investor", _UPDATE_DESCRIPTION),
    prepared=Doc(
        "prepare_update",
        "Prepare an investor's change for the KYC provider to sign",
        "The non-custodial twin of PATCH /investors/{chain}/{investor_id}. " + _UPDATE_DESCRIPTION,
    ),
)


def _revoke(
    registry: Registry, caller: Principal, chain: Chain, investor_id: InvestorId, body: SenderOnly
) -> Built:
    load_investor(registry, chain, investor_id)
    tx = registry.investors.prepare_revoke(chain, investor_id, sender=caller.sender(body.sender))
    return _investor_change(chain, investor_id, tx)


_REVOKE_DESCRIPTION = (
    "Revokes an investor for good: none of its wallets is verified any more, it can neither receive nor "
    "send kyc-mode tokens; its holdings are settled by the tokens' enforcement agents (forced transfers). "
    "Revoking twice is 409."
)

sending(
    router,
    "/{chain}/{investor_id}/revoke",
    REVOKE,
    InvestorChangedPublic,
    build=_revoke,
    answer=_changed,
    dependencies=[ONBOARDING],
    custodial=Doc("revoke_investor", "Revoke an investor", _REVOKE_DESCRIPTION),
    prepared=Doc(
        "prepare_revoke",
        "Prepare a revocation for the KYC provider to sign",
        "The non-custodial twin of POST /investors/{chain}/{investor_id}/revoke. " + _REVOKE_DESCRIPTION,
    ),
)


def _add_wallet(
    registry: Registry, caller: Principal, chain: Chain, investor_id: InvestorId, body: WalletCreate
) -> Built:
    load_investor(registry, chain, investor_id)
    tx = registry.investors.prepare_add_wallet(
        chain, investor_id, str(body.wallet), sender=caller.sender(body.sender)
    )
    return _investor_change(chain, investor_id, tx)


_ADD_DESCRIPTION = (
    "Links another wallet to an investor that is not revoked (at most 16 wallets). A wallet that belongs to "
    "an investor already, or a revoked investor, is 409 and nothing is sent."
)

sending(
    router,
    "/{chain}/{investor_id}/wallets",
    ADD_WALLET,
    InvestorChangedPublic,
    build=_add_wallet,
    answer=_changed,
    dependencies=[ONBOARDING],
    custodial=Doc("add_wallet", "Link a wallet to an investor", _ADD_DESCRIPTION),
    prepared=Doc(
        "prepare_add_wallet",
        "Prepare a wallet's link for the KYC provider to sign",
        "The non-custodial twin of POST /investors/{chain}/{investor_id}/wallets. " + _ADD_DESCRIPTION,
    ),
)


def _remove_wallet(
    registry: Registry,
    caller: Principal,
    *,
    chain: Chain,
    investor_id: InvestorId,
    wallet: Wallet,
    sender: SenderQuery = None,
) -> Built:
    load_investor(registry, chain, investor_id)
    owner = registry.investors.investor_of(chain, wallet)
    if owner != investor_id:
        raise not_found("wallet", f"{wallet} is not a wallet of investor {investor_id} on the {chain} chain")
    tx = registry.investors.prepare_remove_wallet(chain, wallet, sender=caller.sender(sender))
    return _investor_change(chain, investor_id, tx)


_REMOVE_DESCRIPTION = (
    "Unlinks a wallet from its investor (the key wallet stays). A wallet unlinked while it holds tokens "
    "keeps counting for its investor and can move them no more until an enforcement agent empties it "
    "(forced transfer or recovery). A wallet not of this investor is 404."
)

sending(
    router,
    "/{chain}/{investor_id}/wallets/{wallet}",
    REMOVE_WALLET,
    InvestorChangedPublic,
    method="DELETE",
    build=_remove_wallet,
    answer=_changed,
    dependencies=[ONBOARDING],
    custodial=Doc("remove_wallet", "Unlink a wallet from an investor", _REMOVE_DESCRIPTION),
    prepared=Doc(
        "prepare_remove_wallet",
        "Prepare a wallet's unlinking for the KYC provider to sign",
        "The non-custodial twin of DELETE /investors/{chain}/{investor_id}/wallets/{wallet}. "
        + _REMOVE_DESCRIPTION,
    ),
)


# Registered after the changes above, as before: POST /transactions' document lists the results in the
# order their operations were registered.
operation(REGISTER, InvestorCreatedPublic, status_code=201)(_complete_register)
