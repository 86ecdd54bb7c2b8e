"""Every route of the app, called with every role (and with no key): allowed exactly where the matrix says.

The matrix is the specification: a route added without a row fails `test_every_route_has_a_row`, a row
left for a route that is gone fails too. A router added later is walked automatically; its author adds
its rows here.
"""

from __future__ import annotations

import re
from typing import Final

import pytest

from registry.access.keys import ROLES

from .conftest import Api, problem

PUBLIC: Final = None
"""No key needed."""
EVERY: Final = frozenset(ROLES)
ADMIN: Final = frozenset({"admin"})
ISSUERS: Final = frozenset({"admin", "issuer"})
SIGNERS: Final = EVERY - {"auditor"}
BURNERS: Final = frozenset({"admin", "issuer", "agent"})
HOLDERS: Final = frozenset({"admin", "investor"})
KYC: Final = frozenset({"admin", "kyc-provider"})

MATRIX: Final[dict[tuple[str, str], frozenset[str] | None]] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/problems"): PUBLIC,
    ("GET", "/problems/{slug}"): PUBLIC,
    ("POST", "/keys"): ADMIN,
    ("GET", "/keys"): ADMIN,
    ("GET", "/keys/me"): EVERY,
    ("GET", "/keys/{key_id}"): ADMIN,
    ("DELETE", "/keys/{key_id}"): ADMIN,
    ("POST", "/keys/{key_id}/signing-keys"): ADMIN,
    ("GET", "/chains"): EVERY,
    ("GET", "/chains/{chain}"): EVERY,
    ("GET", "/chains/{chain}/blocks"): EVERY,
    ("GET", "/chains/{chain}/blocks/{number}"): EVERY,
    ("POST", "/assets"): ISSUERS,
    ("POST", "/assets/prepare"): ISSUERS,
    ("GET", "/assets"): EVERY,
    ("GET", "/assets/{asset_id}"): EVERY,
    ("POST", "/transactions"): SIGNERS,
    ("POST", "/assets/{asset_id}/mint"): ISSUERS,
    ("POST", "/assets/{asset_id}/mint/prepare"): ISSUERS,
    ("POST", "/assets/{asset_id}/burn"): BURNERS,
    ("POST", "/assets/{asset_id}/burn/prepare"): BURNERS,
    ("POST", "/assets/{asset_id}/transfers"): HOLDERS,
    ("POST", "/assets/{asset_id}/transfers/prepare"): HOLDERS,
    ("POST", "/investors/batch"): KYC,
    ("POST", "/assets/{asset_id}/mint/batch"): ISSUERS,
    ("POST", "/assets/{asset_id}/transfers/batch"): HOLDERS,
    ("GET", "/batches/{batch_id}"): EVERY,
}
"""(method, path) -> the roles that may call it (PUBLIC: anyone, no key)."""

PLACEHOLDERS: Final = {
    "key_id": "0000000000000000",
    "asset_id": "bond-00000000000000000000",
    "chain": "permissioned",
    "number": "999999999",
    "slug": "no-such-problem",
    "batch_id": "api-nobody-0",
}
"""Path parameters that name nothing, so that an allowed call changes nothing (any other: ``x``)."""


def routes(api: Api) -> list[tuple[str, str]]:
    """Every (method, path) the app serves through its routers (`create_app` refuses a route left out of
    the OpenAPI document, which FastAPI writes from the routes it serves)."""
    paths = api.app.openapi()["paths"]
    return [(method.upper(), path) for path, item in paths.items() for method in item]


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: PLACEHOLDERS.get(match.group(1), "x"), path)


def test_every_route_has_a_row_and_every_row_a_route(sqlite_api: Api) -> None:
    served = set(routes(sqlite_api))
    assert served - MATRIX.keys() == set(), "routes without a row in MATRIX"
    assert MATRIX.keys() - served == set(), "rows of MATRIX for routes that do not exist"


def test_the_openapi_document_states_the_same_roles(sqlite_api: Api) -> None:
    paths = sqlite_api.client.get("/openapi.json").json()["paths"]
    for (method, path), roles in MATRIX.items():
        operation = paths[path][method.lower()]
        if roles is PUBLIC:
            assert operation.get("x-public") is True
        else:
            assert set(operation["x-roles"]) == roles, (method, path)


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_each_route_answers_each_role_as_the_matrix_says(sqlite_api: Api, method: str, path: str) -> None:
    allowed = MATRIX[(method, path)]
    url = concrete(path)
    body: dict[str, object] | None = {} if method in ("POST", "PUT", "PATCH") else None
    anonymous = sqlite_api.call(method, url, json=body)
    if allowed is PUBLIC:
        assert anonymous.status_code not in (401, 403), anonymous.text
        return
    problem(anonymous, 401, "unauthenticated")
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    for role in ROLES:
        response = sqlite_api.call(method, url, role, json=body)
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            refused = problem(response, 403, "role-forbidden")
            assert refused["role"] == role
            assert set(refused["roles_needed"]) == allowed
            assert all(needed in refused["detail"] for needed in allowed)
