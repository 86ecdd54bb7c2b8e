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
GOVERNORS: Final = frozenset({"admin", "validator"})
CLAIMERS: Final = frozenset({"admin", "issuer", "investor"})
ONBOARDING: Final = frozenset({"admin", "kyc-provider"})
ENFORCERS: Final = frozenset({"admin", "issuer", "agent"})

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
    ("GET", "/assets/{asset_id}/coupons"): EVERY,
    ("POST", "/assets/{asset_id}/coupons"): ISSUERS,
    ("POST", "/assets/{asset_id}/coupons/prepare"): ISSUERS,
    ("POST", "/assets/{asset_id}/coupons/{period_id}/fund"): ISSUERS,
    ("POST", "/assets/{asset_id}/coupons/{period_id}/fund/prepare"): ISSUERS,
    ("POST", "/assets/{asset_id}/coupons/{period_id}/claim"): CLAIMERS,
    ("POST", "/assets/{asset_id}/coupons/{period_id}/claim/prepare"): CLAIMERS,
    ("POST", "/assets/{asset_id}/coupons/{period_id}/sweep"): ISSUERS,
    ("POST", "/assets/{asset_id}/coupons/{period_id}/sweep/prepare"): ISSUERS,
    ("GET", "/assets/{asset_id}/dividends"): EVERY,
    ("POST", "/assets/{asset_id}/dividends"): ISSUERS,
    ("POST", "/assets/{asset_id}/dividends/prepare"): ISSUERS,
    ("POST", "/assets/{asset_id}/dividends/{dividend_id}/claim"): CLAIMERS,
    ("POST", "/assets/{asset_id}/dividends/{dividend_id}/claim/prepare"): CLAIMERS,
    ("POST", "/assets/{asset_id}/dividends/{dividend_id}/sweep"): ISSUERS,
    ("POST", "/assets/{asset_id}/dividends/{dividend_id}/sweep/prepare"): ISSUERS,
    ("POST", "/assets/{asset_id}/splits"): ISSUERS,
    ("POST", "/assets/{asset_id}/splits/prepare"): ISSUERS,
    ("POST", "/assets/{asset_id}/call"): ISSUERS,
    ("POST", "/assets/{asset_id}/call/prepare"): ISSUERS,
    ("POST", "/assets/{asset_id}/redemption/fund"): ISSUERS,
    ("POST", "/assets/{asset_id}/redemption/fund/prepare"): ISSUERS,
    ("POST", "/assets/{asset_id}/redemptions"): HOLDERS,
    ("POST", "/assets/{asset_id}/redemptions/prepare"): HOLDERS,
    ("POST", "/assets/{asset_id}/redemption/sweep"): ISSUERS,
    ("POST", "/assets/{asset_id}/redemption/sweep/prepare"): ISSUERS,
    ("GET", "/assets/{asset_id}/events"): EVERY,
    ("POST", "/transactions"): SIGNERS,
    ("POST", "/assets/{asset_id}/mint"): ISSUERS,
    ("POST", "/assets/{asset_id}/mint/prepare"): ISSUERS,
    ("POST", "/assets/{asset_id}/burn"): BURNERS,
    ("POST", "/assets/{asset_id}/burn/prepare"): BURNERS,
    ("POST", "/assets/{asset_id}/transfers"): CLAIMERS,
    ("POST", "/assets/{asset_id}/transfers/prepare"): CLAIMERS,
    ("POST", "/investors/batch"): KYC,
    ("POST", "/assets/{asset_id}/mint/batch"): ISSUERS,
    ("POST", "/assets/{asset_id}/transfers/batch"): CLAIMERS,
    ("GET", "/batches/{batch_id}"): EVERY,
    ("GET", "/chains/{chain}/validators"): EVERY,
    ("GET", "/chains/{chain}/frozen"): EVERY,
    ("GET", "/chains/{chain}/votes"): EVERY,
    ("POST", "/chains/{chain}/votes"): GOVERNORS,
    ("POST", "/chains/{chain}/votes/{vote_id}/signatures"): GOVERNORS,
    ("GET", "/chains/{chain}/interventions"): EVERY,
    ("POST", "/chains/{chain}/interventions"): GOVERNORS,
    ("GET", "/chains/{chain}/interventions/{id}"): EVERY,
    ("POST", "/chains/{chain}/interventions/{id}/signatures"): GOVERNORS,
    ("POST", "/chains/{chain}/interventions/{id}/execute"): GOVERNORS,
    ("GET", "/events"): EVERY,
    ("POST", "/investors"): ONBOARDING,
    ("POST", "/investors/prepare"): ONBOARDING,
    ("GET", "/investors"): EVERY - {"investor"},
    ("GET", "/investors/{chain}/{investor_id}"): EVERY,
    ("PATCH", "/investors/{chain}/{investor_id}"): ONBOARDING,
    ("PATCH", "/investors/{chain}/{investor_id}/prepare"): ONBOARDING,
    ("POST", "/investors/{chain}/{investor_id}/revoke"): ONBOARDING,
    ("POST", "/investors/{chain}/{investor_id}/revoke/prepare"): ONBOARDING,
    ("POST", "/investors/{chain}/{investor_id}/wallets"): ONBOARDING,
    ("POST", "/investors/{chain}/{investor_id}/wallets/prepare"): ONBOARDING,
    ("DELETE", "/investors/{chain}/{investor_id}/wallets/{wallet}"): ONBOARDING,
    ("DELETE", "/investors/{chain}/{investor_id}/wallets/{wallet}/prepare"): ONBOARDING,
    ("GET", "/investors/{chain}/{investor_id}/holdings"): EVERY,
    ("GET", "/wallets/{chain}/{address}"): EVERY,
    ("GET", "/assets/{asset_id}/cap-table"): EVERY,
    ("GET", "/assets/{asset_id}/compliance"): EVERY,
    ("PUT", "/assets/{asset_id}/compliance/{rule}"): ISSUERS,
    ("PUT", "/assets/{asset_id}/compliance/{rule}/prepare"): ISSUERS,
    ("POST", "/assets/{asset_id}/compliance/check"): EVERY,
    ("POST", "/assets/{asset_id}/pause"): ENFORCERS,
    ("POST", "/assets/{asset_id}/pause/prepare"): ENFORCERS,
    ("POST", "/assets/{asset_id}/unpause"): ENFORCERS,
    ("POST", "/assets/{asset_id}/unpause/prepare"): ENFORCERS,
    ("GET", "/assets/{asset_id}/freezes"): EVERY,
    ("POST", "/assets/{asset_id}/freezes"): ENFORCERS,
    ("POST", "/assets/{asset_id}/freezes/prepare"): ENFORCERS,
    ("DELETE", "/assets/{asset_id}/freezes/{account}"): ENFORCERS,
    ("DELETE", "/assets/{asset_id}/freezes/{account}/prepare"): ENFORCERS,
    ("POST", "/assets/{asset_id}/forced-transfers"): ENFORCERS,
    ("POST", "/assets/{asset_id}/forced-transfers/prepare"): ENFORCERS,
    ("POST", "/assets/{asset_id}/recoveries"): ENFORCERS,
    ("POST", "/assets/{asset_id}/recoveries/prepare"): ENFORCERS,
    ("GET", "/demos"): EVERY,
    ("POST", "/demos/{name}"): ADMIN,
    ("GET", "/demos/runs/{run_id}"): EVERY,
}
"""(method, path) -> the roles that may call it (PUBLIC: anyone, no key)."""

PLACEHOLDERS: Final = {
    "key_id": "0000000000000000",
    "asset_id": "bond-00000000000000000000",
    "chain": "permissioned",
    "number": "999999999",
    "slug": "no-such-problem",
    "batch_id": "api-nobody-0",
    "vote_id": "0x" + "00" * 32,
    "id": "0x" + "00" * 32,
    "period_id": "0",
    "dividend_id": "0",
    "investor_id": "4294967295",
    "wallet": "0x000000000000000000000000000000000000dEaD",
    "address": "0x000000000000000000000000000000000000dEaD",
    "account": "0x000000000000000000000000000000000000dEaD",
    "rule": "max-investors",
    "name": "no-such-demo",
    "run_id": "no-such-run",
}
"""Path parameters that name nothing, so that an allowed call changes nothing (any other: ``x``)."""

STREAMS: Final = frozenset({("GET", "/events")})
"""Routes answering an endless stream: the test client here cannot end one, so an allowed role's call
is made against a real server by tests/api/test_events.py (every role opens the stream there)."""


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
        if role in allowed and (method, path) in STREAMS:
            continue
        response = sqlite_api.call(method, url, role, json=body)
        if role in allowed:
            # Allowed by role; a scope refusal (an investor reading a wallet not its own) is another matter,
            # tested with each router.
            assert response.status_code != 401, (role, response.text)
            if response.status_code == 403:
                assert response.json()["type"] == "/problems/scope-forbidden", (role, response.text)
        else:
            refused = problem(response, 403, "role-forbidden")
            assert refused["role"] == role
            assert set(refused["roles_needed"]) == allowed
            assert all(needed in refused["detail"] for needed in allowed)
