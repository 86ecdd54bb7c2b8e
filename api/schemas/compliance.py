"""Compliance rules of a kyc-mode asset: the rules in force, setting one, and checking a transfer."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Address, DecimalString, TransactionPublic
from registry.compliance import Violation

RuleName = Literal["country-rule", "countries", "max-investors", "max-balance", "lockup", "accredited-only"]
"""The rules a compliance officer sets, one ``PUT /assets/{asset_id}/compliance/{rule}`` each."""

_WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
_OTHER = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"

RULE_EXAMPLES: dict[str, dict[str, Any]] = {
    "country-rule": {"summary": "Only listed countries may hold it", "value": {"value": "allow"}},
    "countries": {"summary": "List Switzerland and Germany", "value": {"value": ["CH", 276], "listed": True}},
    "max-investors": {"summary": "At most 99 investors (0: no limit)", "value": {"value": 99}},
    "max-balance": {"summary": "At most 500 per investor (0: no limit)", "value": {"value": "500"}},
    "lockup": {"summary": "Locked until a date (null lifts it)", "value": {"value": "2027-06-30T00:00:00Z"}},
    "accredited-only": {"summary": "Accredited investors only", "value": {"value": True}},
}


class RuleUpdate(BaseModel):
    """The new value of one rule; its type depends on the rule (see the examples)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"value": 99}]})

    value: bool | int | str | list[int | str] | None = Field(
        description="country-rule: none, allow or block; countries: ISO 3166 codes (756 or 'CH'); "
        "max-investors: a count (0: no limit); max-balance: an amount in the asset's units (0: no limit); "
        "lockup: an ISO 8601 time (null: no lock-up); accredited-only: true or false.",
    )
    listed: bool = Field(
        default=True, description="countries only: put them on the list (true) or take them off (false)."
    )
    sender: Address | None = Field(
        default=None,
        description="The signing address (it holds the token's compliance role): one of the key's (may be "
        "left out when the key has one); an admin key names it.",
    )


class CompliancePublic(BaseModel):
    """The compliance rules in force on an asset now."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "asset_id": "bond-5f0c2a9d11e3b7a40c21",
                    "mode": "kyc",
                    "paused": False,
                    "country_rule": "block",
                    "countries": [408],
                    "max_investors": 99,
                    "investor_count": 12,
                    "max_balance_per_investor": "500",
                    "lockup_until": None,
                    "accredited_only": False,
                }
            ]
        }
    )

    asset_id: str = Field(description="The asset.")
    mode: Literal["kyc", "open"] = Field(
        description="kyc: the rules below apply; open: none does (only pause and freezes)."
    )
    paused: bool = Field(description="The token is paused.")
    country_rule: Literal["none", "allow", "block"] | None = Field(
        description="How the country list is read (null in open mode)."
    )
    countries: list[int] = Field(description="The ISO 3166 numeric codes on the country list.")
    max_investors: int | None = Field(description="At most this many investors (0: no limit).")
    investor_count: int | None = Field(description="How many investors hold it now.")
    max_balance_per_investor: str | None = Field(
        description="At most this much per investor, all wallets counted, in the asset's units (0: no limit)."
    )
    lockup_until: datetime | None = Field(
        description="Holders cannot transfer before this time (null: none)."
    )
    accredited_only: bool | None = Field(description="Only accredited investors may receive it.")


class RuleChangedPublic(BaseModel):
    """The rules after a change, and the transaction."""

    compliance: CompliancePublic = Field(description="The rules in force now.")
    transaction: TransactionPublic = Field(description="The change.")


class ComplianceCheckCreate(BaseModel):
    """A transfer to check against the asset's rules (from the zero address: a mint)."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [{"from": _WALLET, "to": _OTHER, "amount": "10"}]},
    )

    source: Address = Field(alias="from", description="The sender (the zero address for a mint).")
    to: Address = Field(description="The receiver.")
    amount: DecimalString = Field(description="The amount, in the asset's units.")


class ViolationPublic(BaseModel):
    """A rule the transfer would break."""

    rule: str = Field(description="The rule's name, e.g. COUNTRY_NOT_ALLOWED.", examples=["LOCKUP_ACTIVE"])
    code: int = Field(description="The rule's code on chain.", examples=[10])
    message: str = Field(description="What is wrong.")
    remedy: str = Field(description="What to do about it.")

    @classmethod
    def of(cls, violation: Violation) -> ViolationPublic:
        """The public form of an explained violation."""
        return cls(
            rule=violation.name, code=violation.code, message=violation.message, remedy=violation.remedy
        )


class ComplianceCheckPublic(BaseModel):
    """Whether the transfer would go through now, and every rule it would break."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "allowed": False,
                    "violations": [
                        {
                            "rule": "LOCKUP_ACTIVE",
                            "code": 10,
                            "message": "The token is in its lock-up period: holders cannot transfer it yet.",
                            "remedy": "Wait until the lock-up ends.",
                        }
                    ],
                }
            ]
        }
    )

    allowed: bool = Field(description="True when no rule would be broken.")
    violations: list[ViolationPublic] = Field(description="Every rule it would break (empty when allowed).")
