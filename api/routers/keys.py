"""API keys: make one (with its role and bindings), list them, see one, revoke one; and make a custodial
signing key for a key to act as."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path
from fastapi.responses import Response

from api.deps import ClockDep, IdempotencyDep, PageDep, PrincipalDep, RegistryDep
from api.schemas.common import decode_cursor, encode_cursor
from api.schemas.keys import (
    KeyCreate,
    KeyCreatedPublic,
    KeyPublic,
    KeysPublic,
    SigningKeyCreate,
    SigningKeyPublic,
)
from api.security import EVERY_ROLE, allow
from registry.access import keys as access_keys
from registry.errors import InvalidInputError

TAG = {
    "name": "keys",
    "description": "API keys: random, shown once, stored as a SHA-256. "
    "Each has a role (admin, issuer, agent, "
    "kyc-provider, validator, investor, auditor) and bindings: the addresses it acts as, the assets an "
    "agent is assigned. Only admins manage keys.",
}

router = APIRouter(prefix="/keys", tags=["keys"])

KeyId = Annotated[str, Path(description="The key's id (16 hex digits).", examples=["3f9a0c27d1b84e65"])]


@router.post(
    "",
    status_code=201,
    dependencies=[allow("admin")],
    summary="Make an API key",
    description="Makes a key with a role and its bindings. The response carries the key itself, once: it is "
    "stored only as a hash and cannot be shown again. Agent keys name the assets they are assigned (each "
    "must be catalogued).",
)
def create_key(body: KeyCreate, registry: RegistryDep, now: ClockDep) -> KeyCreatedPublic:
    """Make an API key."""
    access_keys.check_bindings(body.role, body.addresses, body.assets)
    for asset_id in body.assets:
        registry.asset(asset_id)
    with registry.db.write() as session:
        made = access_keys.create_key(
            session, role=body.role, label=body.label, now=now, addresses=body.addresses, assets=body.assets
        )
    return KeyCreatedPublic(key=KeyPublic.of(made.record), api_key=made.token)


@router.get(
    "",
    dependencies=[allow("admin")],
    summary="List API keys",
    description="Every key, active and revoked, by id; never a key's secret.",
)
def list_keys(registry: RegistryDep, page: PageDep) -> KeysPublic:
    """List API keys."""
    after = str(decode_cursor(page.cursor, "after")["after"]) if page.cursor else None
    with registry.db.read() as session:
        found = access_keys.list_keys(session, after=after, limit=page.limit + 1)
    items = found[: page.limit]
    more = len(found) > page.limit
    return KeysPublic(
        items=[KeyPublic.of(record) for record in items],
        next_cursor=encode_cursor({"after": items[-1].key_id}) if more else None,
    )


@router.get(
    "/me",
    dependencies=[allow(*EVERY_ROLE)],
    summary="The caller's own key",
    description="The key the request was made with: its role and bindings.",
)
def my_key(caller: PrincipalDep) -> KeyPublic:
    """The caller's own key."""
    return KeyPublic.of(caller.key)


@router.get(
    "/{key_id}",
    dependencies=[allow("admin")],
    summary="One API key",
    description="A key by id, active or revoked.",
)
def get_key(key_id: KeyId, registry: RegistryDep) -> KeyPublic:
    """One API key."""
    with registry.db.read() as session:
        return KeyPublic.of(access_keys.get_key(session, key_id))


@router.delete(
    "/{key_id}",
    dependencies=[allow("admin")],
    summary="Revoke an API key",
    description="The key stops working at once (requests made with it get 401). Revoking a revoked key "
    "changes nothing. The last active admin key cannot be revoked (409): make another first, or replace "
    "it from the data directory with `registry keys reset-admin`.",
)
def revoke_key(key_id: KeyId, registry: RegistryDep, now: ClockDep) -> KeyPublic:
    """Revoke an API key."""
    with registry.db.write() as session:
        return KeyPublic.of(access_keys.revoke_key(session, key_id, now=now))


@router.post(
    "/{key_id}/signing-keys",
    status_code=201,
    response_model=SigningKeyPublic,
    dependencies=[allow("admin")],
    summary="Make a custodial signing key for an API key",
    description="Creates a key in the custodial keystore, makes it ready to send on each chain (on an "
    "embedded chain: gas from the faucet and, on the permissioned chain, chain-level KYC), and binds its "
    "address to the API key, which may then act as it. For issuer, agent, kyc-provider, validator and "
    "investor keys. Sends transactions: send an Idempotency-Key to retry safely.",
)
def create_signing_key(
    key_id: KeyId,
    registry: RegistryDep,
    idem: IdempotencyDep,
    body: Annotated[SigningKeyCreate, Body()] = SigningKeyCreate(),  # noqa: B008
) -> Response:
    """Make a custodial signing key for an API key."""

    def work() -> SigningKeyPublic:
        with registry.db.read() as session:
            record = access_keys.get_key(session, key_id)
        if "address" not in access_keys.BINDINGS_BY_ROLE[record.role]:
            raise InvalidInputError("key_id", f"an {record.role} key acts as nobody: it takes no signing key")
        made = registry.keys.create(body.label or f"api key {key_id}: {record.label}", chains=body.chains)
        with registry.db.write() as session:
            bound = access_keys.bind(session, key_id, "address", made.address)
        return SigningKeyPublic.of(made, bound)

    return idem.run(work, status_code=201)
