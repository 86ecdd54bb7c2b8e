"""Who is calling, and what their key's role and bindings let them do.

**Keys.** A request carries ``Authorization: Bearer rk_…`` (see `registry.access.keys`: random, shown
once, stored as a SHA-256). No key, a malformed, unknown or revoked one: 401. Every route declares the
roles that may call it with `allow` (``dependencies=[allow("admin", "issuer")]``); a key of another role
gets 403 naming the roles needed. A route without such a declaration must say it is public (`PUBLIC`),
or `api.app.create_app` refuses to build the app, so no route is left open by omission.

**Which sender a caller may name.** Custody signs for every key it holds: keystore keys, and on the
embedded chains the development accounts and the permissioned chain's operator (its KYC provider). So
the API decides who may make custody sign as whom (`Principal.sender`):

- an **admin** key names any address custody holds, explicitly (the operator and the faucet included):
  the admin is trusted with the whole registry;
- every other key acts only as the addresses it is bound to (an issuer's custodial signing addresses,
  an agent's enforcement address, a KYC provider's address, a validator's address, an investor's
  wallets); naming another is 403 (``scope-forbidden``). With one bound address the sender may be left
  out. The non-custodial flow follows the same rule, so nobody prepares transactions in another's name;
- an **auditor** acts as nobody.

**Assets.** An issuer runs its own assets: those on which one of its addresses holds the admin role on
chain (the contract is the truth, and the issuer's key is the one that deployed them); an agent the
assets an admin assigned to it (`Principal.require_asset`). Reads of the catalogue and the chains are
open to every role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Final

from eth_utils.address import is_address, to_checksum_address
from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiProblemError
from api.state import api_state
from registry.access import keys as access_keys
from registry.access.keys import ROLES, ApiKeyRecord, Role
from registry.roles import ROLE_IDS
from registry.runtime import Registry

PUBLIC: Final[dict[str, Any]] = {"x-public": True}
"""``openapi_extra`` of a route anyone may call without a key (health, the problem catalogue)."""

EVERY_ROLE: Final[tuple[Role, ...]] = ROLES
"""Reads open to every key."""

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key as a bearer token: `Authorization: Bearer rk_<key id>_<secret>`.",
)


@dataclass(frozen=True)
class Principal:
    """The caller: its key (role, bindings)."""

    key: ApiKeyRecord

    @property
    def key_id(self) -> str:
        """The key's public id."""
        return self.key.key_id

    @property
    def role(self) -> Role:
        """The key's role."""
        return self.key.role

    def acts_as(self, address: str) -> bool:
        """True if the key may act as ``address`` (an admin acts as anyone)."""
        return self.role == "admin" or to_checksum_address(address) in self.key.addresses

    def sender(self, requested: str | None, field: str = "sender") -> str:
        """The address custody signs with (or the client, non-custodially), as the rules above allow.

        Raises:
            InvalidInputError-shaped problems (422, ``field``): none named and none implied.
            ApiProblemError scope-forbidden (403): the key may not act as ``requested``.
        """
        if requested is not None:
            if not is_address(requested):
                raise ApiProblemError("invalid-input", f"{field}: expected an address", field=field)
            if not self.acts_as(requested):
                raise ApiProblemError(
                    "scope-forbidden",
                    f"this {self.role} key acts only as its own addresses "
                    f"({', '.join(self.key.addresses) or 'none bound'}), "
                    f"not as {to_checksum_address(requested)}",
                    field=field,
                )
            return to_checksum_address(requested)
        if self.role == "admin":
            raise ApiProblemError(
                "invalid-input",
                f"{field}: an admin key acts as any address custody holds, so it names the one to use",
                field=field,
            )
        if len(self.key.addresses) == 1:
            return self.key.addresses[0]
        if not self.key.addresses:
            raise ApiProblemError(
                "invalid-input",
                f"{field}: this {self.role} key is bound to no address; an admin binds one "
                f"(POST /keys/{self.key_id}/signing-keys makes a custodial key for it)",
                field=field,
            )
        raise ApiProblemError(
            "invalid-input",
            f"{field}: this key acts as {', '.join(self.key.addresses)}; name the one to use",
            field=field,
        )

    def require_asset(self, registry: Registry, asset_id: str) -> None:
        """Refuse (403 ``scope-forbidden``) unless the key may operate ``asset_id``: an admin always, an
        agent if assigned, an issuer if one of its addresses holds the asset's admin role on chain.

        Raises:
            UnknownAssetError: no such asset (404).
        """
        asset = registry.asset(asset_id)
        if self.role == "admin":
            return
        if self.role == "agent" and asset.asset_id in self.key.assets:
            return
        if self.role == "issuer":
            token = registry.context.token(asset)
            admin = ROLE_IDS["admin"]
            if any(bool(token.functions.hasRole(admin, a).call()) for a in self.key.addresses):
                return
        raise ApiProblemError(
            "scope-forbidden",
            f"this {self.role} key may not operate {asset.asset_id}: an issuer operates the assets it "
            "administers, an agent the assets assigned to it",
            asset_id=asset.asset_id,
        )


def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller of ``request``.

    Raises:
        ApiProblemError unauthenticated (401): no key, or not a valid active key.
    """
    challenge = {"WWW-Authenticate": 'Bearer realm="registry"'}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiProblemError(
            "unauthenticated",
            "this operation needs an API key: send `Authorization: Bearer rk_…` (an admin makes keys with "
            "POST /keys)",
            headers=challenge,
        )
    with api_state(request).registry.db.read() as session:
        record = access_keys.authenticate(session, credentials.credentials)
    if record is None:
        raise ApiProblemError(
            "unauthenticated",
            "the API key is not valid: malformed, unknown or revoked "
            "(an admin makes a new one with POST /keys)",
            headers=challenge,
        )
    request.state.key_id = record.key_id
    return Principal(record)


class RoleGate:
    """The dependency `allow` makes: refuses keys of other roles (403), names the roles needed."""

    def __init__(self, roles: Sequence[Role]) -> None:
        for role in roles:
            access_keys.check_role(role)
        self.roles: tuple[Role, ...] = tuple(roles)

    def __call__(self, principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if principal.role not in self.roles:
            needed = (
                f"the role {self.roles[0]}"
                if len(self.roles) == 1
                else f"one of the roles {', '.join(self.roles)}"
            )
            raise ApiProblemError(
                "role-forbidden",
                f"a key of role {principal.role} may not call this operation; it needs {needed}",
                roles_needed=list(self.roles),
                role=principal.role,
            )
        return principal


def allow(*roles: Role) -> DependsParam:
    """The route dependency declaring which roles may call it: ``dependencies=[allow("admin")]``."""
    gate: DependsParam = Depends(RoleGate(roles))
    return gate
