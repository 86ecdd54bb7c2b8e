"""Compliance rules of an asset: read the rules in force, set one (custodially or prepared for the
compliance officer's own wallet), and check a transfer against all of them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path

from api.deps import RegistryDep
from api.schemas.common import TransactionPublic, format_amount, iso, parse_amount
from api.schemas.compliance import (
    RULE_EXAMPLES,
    ComplianceCheckCreate,
    ComplianceCheckPublic,
    CompliancePublic,
    RuleChangedPublic,
    RuleName,
    RuleUpdate,
    ViolationPublic,
)
from api.schemas.countries import country_code
from api.scope import await_index, timestamp
from api.security import EVERY_ROLE, Principal, allow
from api.sending import Built, Doc, Sent, sending
from registry.assets.tokens import COUNTRY_RULES, REGULATED
from registry.custody.transactions import PreparedTransaction
from registry.errors import InvalidInputError
from registry.index import queries
from registry.index.catalogue import AssetRecord
from registry.runtime import Registry

TAG = {
    "name": "compliance",
    "description": "The transfer rules of a kyc-mode asset (country allow or block list, maximum number of "
    "investors, maximum balance per investor, lock-up, accredited only): read them, set one, and check a "
    "transfer against all of them (every broken rule is listed).",
}

router = APIRouter(prefix="/assets/{asset_id}/compliance", tags=["compliance"])

AssetId = Annotated[
    str, Path(max_length=64, description="The asset's id.", examples=["bond-5f0c2a9d11e3b7a40c21"])
]
Rule = Annotated[RuleName, Path(description="The rule to set.")]
Update = Annotated[RuleUpdate, Body(openapi_examples=RULE_EXAMPLES)]

SET_RULE = "compliance.set"
_RULE_NAMES = {value: name for name, value in COUNTRY_RULES.items()}


def _listed_countries(registry: Registry, asset: AssetRecord) -> list[int]:
    """The countries on the asset's list: candidates from its indexed ``CountryListChanged`` events, each
    confirmed on chain."""
    candidates: set[int] = set()
    cursor: str | None = None
    with registry.db.read() as session:
        while True:
            page = queries.asset_events(
                session, asset.asset_id, names=["CountryListChanged"], limit=queries.MAX_PAGE, cursor=cursor
            )
            candidates |= {int(event.args["country"]) for event in page.entries}
            cursor = page.next_cursor
            if cursor is None:
                break
    token = registry.context.token(asset)
    return sorted(code for code in candidates if bool(token.functions.isCountryListed(code).call()))


def compliance_public(registry: Registry, asset: AssetRecord) -> CompliancePublic:
    """The rules in force on ``asset`` now, read from its contract."""
    if asset.kind not in REGULATED or asset.mode != "kyc":
        paused = (
            bool(registry.context.token(asset).functions.paused().call())
            if asset.kind in REGULATED
            else False
        )
        return CompliancePublic(
            asset_id=asset.asset_id,
            mode="open",
            paused=paused,
            country_rule=None,
            countries=[],
            max_investors=None,
            investor_count=None,
            max_balance_per_investor=None,
            lockup_until=None,
            accredited_only=None,
        )
    token = registry.context.token(asset)
    rule, max_investors, count, max_balance, lockup, accredited = token.functions.complianceRules().call()
    return CompliancePublic(
        asset_id=asset.asset_id,
        mode="kyc",
        paused=bool(token.functions.paused().call()),
        country_rule=_RULE_NAMES.get(int(rule), "none"),  # type: ignore[arg-type]
        countries=_listed_countries(registry, asset),
        max_investors=int(max_investors),
        investor_count=int(count),
        max_balance_per_investor=format_amount(int(max_balance), asset.decimals),
        lockup_until=iso(int(lockup)) if int(lockup) else None,
        accredited_only=bool(accredited),
    )


@router.get(
    "",
    dependencies=[allow(*EVERY_ROLE)],
    summary="The compliance rules in force",
    description="An asset's transfer rules now, read from its contract: the country rule and list, the "
    "maximum number of investors (and how many hold it), the maximum balance per investor, the lock-up and "
    "whether only accredited investors may receive it. An open-mode asset checks none of them.",
)
def get_compliance(asset_id: AssetId, registry: RegistryDep) -> CompliancePublic:
    """The compliance rules in force."""
    return compliance_public(registry, registry.asset(asset_id))


def _lockup(value: object) -> int:
    if value is None:
        return 0
    if not isinstance(value, str):
        raise InvalidInputError(
            "value", "lockup: give an ISO 8601 time, e.g. '2027-06-30T00:00:00Z', or null"
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            "value", f"lockup: {value!r} is not an ISO 8601 time (e.g. '2027-06-30T00:00:00Z')"
        ) from None
    return timestamp(moment, "value")


def _prepared_rule(
    registry: Registry, caller: Principal, asset_id: str, rule: str, body: RuleUpdate
) -> PreparedTransaction:
    caller.require_asset(registry, asset_id)
    asset = registry.asset(asset_id)
    sender = caller.sender(body.sender)
    tokens, value = registry.tokens, body.value
    if rule == "country-rule":
        if not isinstance(value, str) or value not in COUNTRY_RULES:
            raise InvalidInputError(
                "value", f"country-rule: one of {', '.join(COUNTRY_RULES)}; got {value!r}"
            )
        return tokens.prepare_set_country_rule(asset_id, value, sender=sender)
    if rule == "countries":
        if not isinstance(value, list) or not value:
            raise InvalidInputError("value", "countries: a non-empty list of ISO 3166 codes (756 or 'CH')")
        codes = [country_code(code, f"value[{index}]") for index, code in enumerate(value)]
        return tokens.prepare_set_countries(asset_id, codes, listed=body.listed, sender=sender)
    if rule == "max-investors":
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**32:
            raise InvalidInputError("value", f"max-investors: a count, 0 (no limit) to 2^32-1; got {value!r}")
        return tokens.prepare_set_max_investors(asset_id, value, sender=sender)
    if rule == "max-balance":
        if not isinstance(value, str):
            raise InvalidInputError(
                "value", "max-balance: an amount as a decimal string, e.g. '500' (0: no limit)"
            )
        maximum = parse_amount(value, asset.decimals, "value")
        return tokens.prepare_set_max_balance(asset_id, maximum, sender=sender)
    if rule == "lockup":
        return tokens.prepare_set_lockup(asset_id, _lockup(value), sender=sender)
    if not isinstance(value, bool):
        raise InvalidInputError("value", f"accredited-only: true or false; got {value!r}")
    return tokens.prepare_set_accredited_only(asset_id, value, sender=sender)


def _set_rule(registry: Registry, caller: Principal, asset_id: AssetId, rule: Rule, body: Update) -> Built:
    tx = _prepared_rule(registry, caller, asset_id, rule, body)
    return Built.on_asset(tx, asset_id)


def _changed(registry: Registry, sent: Sent) -> RuleChangedPublic:
    await_index(registry, sent.outcome)
    return RuleChangedPublic(
        compliance=compliance_public(registry, registry.asset(str(sent.context["asset_id"]))),
        transaction=TransactionPublic.of(sent.outcome),
    )


_SET_DESCRIPTION = (
    "Sets one rule of a kyc-mode asset, signed by custody as a holder of the token's compliance role: "
    "`country-rule` (none, allow or block), `countries` (ISO 3166 codes put on or taken off the list), "
    "`max-investors`, `max-balance` (in the asset's units), `lockup` (an ISO 8601 time, null lifts it), "
    "`accredited-only`. A malformed value is 422 naming `value`; an open-mode asset is 409. An issuer "
    "sets the rules of the assets it administers."
)

sending(
    router,
    "/{rule}",
    SET_RULE,
    RuleChangedPublic,
    method="PUT",
    build=_set_rule,
    answer=_changed,
    dependencies=[allow("admin", "issuer")],
    custodial=Doc("set_rule", "Set a compliance rule", _SET_DESCRIPTION),
    prepared=Doc(
        "prepare_rule",
        "Prepare a compliance rule's change for the compliance officer to sign",
        "The non-custodial twin of PUT /assets/{asset_id}/compliance/{rule}. " + _SET_DESCRIPTION,
    ),
)


@router.post(
    "/check",
    dependencies=[allow(*EVERY_ROLE)],
    summary="Check a transfer against the rules",
    description="Whether a transfer of `amount` from `from` to `to` would go through now, and every rule it "
    "would break (pause, verification, freezes, balance, country, investor count, balance cap, lock-up, "
    "accreditation), each with what to do. From the zero address it checks a mint. Nothing is sent.",
)
def check_transfer(
    asset_id: AssetId, body: ComplianceCheckCreate, registry: RegistryDep
) -> ComplianceCheckPublic:
    """Check a transfer against the rules."""
    asset = registry.asset(asset_id)
    amount = parse_amount(body.amount, asset.decimals, "amount")
    found = registry.tokens.violations(asset_id, str(body.source), str(body.to), amount)
    return ComplianceCheckPublic(allowed=not found, violations=[ViolationPublic.of(v) for v in found])
