"""Types every schema family shares: addresses, decimal amounts, ISINs, chain names, cursor pages,
transactions, problem details.

Conventions (STYLE.md's "HTTP API"): amounts travel as decimal *strings* in the asset's units, never as
floats (``"1000.50"`` of a 6-decimal cash token is 1,000,500,000 raw units); addresses are ``0x`` and
40 hex digits, checksummed or all lower-case, and are answered checksummed; times are ISO 8601 in UTC;
lists are pages ``{"items": [...], "next_cursor": "..."}`` continued with ``?cursor=``.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, Literal, TypeVar

from eth_utils.address import is_checksum_address, to_checksum_address
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from registry.assets.isin import check_isin
from registry.custody.transactions import TxOutcome
from registry.errors import InvalidInputError

ChainName = Literal["permissioned", "permissionless"]
"""The registry's two chains."""

_HEX = frozenset("0123456789abcdefABCDEF")


def _address(value: str) -> str:
    body = value[2:] if value.startswith("0x") else ""
    if len(value) != 42 or not set(body) <= _HEX:
        raise ValueError("expected an address: 0x followed by 40 hex digits")
    if body != body.lower() and not is_checksum_address(value):
        raise ValueError(
            "mixed-case address with a wrong checksum (EIP-55): check for a typo, or send it all lower-case"
        )
    return to_checksum_address(value)


Address = Annotated[
    str,
    Field(
        description="An Ethereum address: 0x and 40 hex digits, checksummed (EIP-55) or all lower-case.",
        examples=["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"],
        pattern=r"^0x[0-9a-fA-F]{40}$",
    ),
    AfterValidator(_address),
]
"""An address, answered checksummed."""


def _isin(value: str) -> str:
    try:
        return check_isin(value)
    except InvalidInputError as exc:
        raise ValueError(str(exc).removeprefix("isin: ")) from None


Isin = Annotated[
    str,
    Field(
        description="An ISIN (ISO 6166): two letters of country, nine letters or digits, a check digit.",
        examples=["US0378331005"],
        min_length=12,
        max_length=12,
    ),
    AfterValidator(_isin),
]
"""An ISIN, check digit included."""

DecimalString = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{1,78}(\.[0-9]{1,78})?$",
        description="A non-negative decimal number as text, in the asset's units (never a float).",
        examples=["1000.50"],
    ),
]
"""An amount as text."""

TxHash = Annotated[
    str,
    Field(
        pattern=r"^0x[0-9a-f]{64}$",
        description="A transaction or block hash: 0x and 64 lower-case hex digits.",
        examples=["0x" + "3f" * 32],
    ),
]


def parse_amount(text: str, decimals: int, field: str) -> int:
    """The raw integer of ``text`` (a decimal string) in units of ``decimals`` decimals.

    Raises:
        InvalidInputError: not a decimal, negative, or finer than the unit (``field`` names it).
    """
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        raise InvalidInputError(
            field, f"expected a decimal number as text, e.g. '1000.50'; got {text!r}"
        ) from None
    if not value.is_finite() or value < 0:
        raise InvalidInputError(field, f"expected a non-negative decimal number; got {text!r}")
    raw = value.scaleb(decimals)
    if raw != raw.to_integral_value():
        raise InvalidInputError(
            field, f"{text} has more decimal places than the asset's {decimals}: round it to {decimals}"
        )
    return int(raw)


def format_amount(raw: int, decimals: int) -> str:
    """``raw`` units of ``decimals`` decimals as a decimal string (no exponent, no trailing zeros)."""
    if decimals == 0:
        return str(raw)
    whole, fraction = divmod(raw, 10**decimals)
    digits = str(fraction).rjust(decimals, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def iso(timestamp: int) -> datetime:
    """A Unix timestamp as an aware UTC datetime (serialised ISO 8601)."""
    return datetime.fromtimestamp(timestamp, UTC)


# -- pages --------------------------------------------------------------------------------------------

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list; pass ``next_cursor`` back as ``?cursor=`` for the next one (null: the last)."""

    items: list[T] = Field(description="The items of this page.")
    next_cursor: str | None = Field(
        description="Opaque cursor of the next page; null when this page is the last.",
        examples=["eyJhZnRlciI6ICJib25kLTAxMjMifQ"],
    )


def encode_cursor(payload: dict[str, Any]) -> str:
    """An opaque cursor for ``payload``."""
    return base64.urlsafe_b64encode(json.dumps(payload, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *keys: str) -> dict[str, Any]:
    """The payload of a cursor `encode_cursor` made, with ``keys``.

    Raises:
        InvalidInputError: (field ``cursor``) not such a cursor.
    """
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict) or any(key not in payload for key in keys):
        raise InvalidInputError(
            "cursor", "not a cursor of this list: pass the next_cursor of the previous page as it is"
        )
    return payload


# -- transactions -------------------------------------------------------------------------------------


class TransactionPublic(BaseModel):
    """A mined, successful transaction the operation sent."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "chain": "permissioned",
                    "hash": "0x" + "3f" * 32,
                    "sender": "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
                    "nonce": 4,
                    "block_number": 18,
                    "block_hash": "0x" + "7a" * 32,
                    "gas_used": 7_937_154,
                    "description": "issue the bond ACME30 (kyc mode) on the permissioned chain",
                }
            ]
        }
    )

    chain: ChainName = Field(description="The chain it landed on.")
    hash: TxHash = Field(description="The transaction hash.")
    sender: Address = Field(description="Who signed it.")
    nonce: int = Field(ge=0, description="The sender's nonce it used.")
    block_number: int = Field(ge=0, description="The block it landed in.")
    block_hash: TxHash = Field(description="That block's hash.")
    gas_used: int = Field(ge=0, description="Gas it used.")
    description: str = Field(description="What it did, in one line.")

    @classmethod
    def of(cls, outcome: TxOutcome) -> TransactionPublic:
        """The public form of custody's outcome."""
        return cls(
            chain=outcome.chain,
            hash=outcome.hash_hex,
            sender=outcome.sender,
            nonce=outcome.nonce,
            block_number=outcome.block_number,
            block_hash="0x" + bytes(outcome.block_hash).hex(),
            gas_used=outcome.gas_used,
            description=outcome.description,
        )


# -- problems -----------------------------------------------------------------------------------------


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str = Field(description="Where: the field's path in the body (dots), or the parameter's name.")
    message: str = Field(description="What is wrong with it and what is expected.")


class Problem(BaseModel):
    """An RFC 9457 problem detail (``application/problem+json``): ``type``, ``title``, ``status``,
    ``detail``, ``instance``, plus the fields of its type (see ``GET /problems``)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "/problems/invalid-input",
                    "title": "Invalid input",
                    "status": 422,
                    "detail": "isin: US0378331006 has the check digit 6, "
                    "but its first eleven characters give 5",
                    "instance": "/assets",
                    "field": "isin",
                }
            ]
        },
    )

    type: str = Field(description="The problem type: a URI reference, described at GET /problems/{slug}.")
    title: str = Field(description="A short summary of the problem type.")
    status: int = Field(ge=400, le=599, description="The HTTP status code.")
    detail: str = Field(description="What went wrong this time, and what to do.")
    instance: str = Field(description="The request path that met the problem.")
