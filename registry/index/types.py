"""Column types the index needs on SQLite and PostgreSQL alike.

Token amounts are ``uint256``: they do not fit the 64-bit integers of either database. `Amount`
keeps them exact and ordered on both: ``NUMERIC(78, 0)`` on PostgreSQL, and on SQLite a text of
78 zero-padded digits, whose text order is the numeric order (SQLite's NUMERIC would turn a large
value into a lossy float). Python sees an ``int`` either way, and comparisons with a bound value
(``Holding.balance_raw > 0``) go through the same conversion, so the same query works on both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

AMOUNT_DIGITS = 78
"""Decimal digits of the largest uint256 (2**256 - 1 has 78)."""

MAX_AMOUNT = 2**256 - 1
"""The largest amount a token contract can report."""


class Amount(TypeDecorator[int]):
    """A non-negative integer of up to 78 digits, exact and ordered on SQLite and PostgreSQL."""

    impl = String(AMOUNT_DIGITS)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(AMOUNT_DIGITS, 0))
        return dialect.type_descriptor(String(AMOUNT_DIGITS))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = int(value)
        if not 0 <= number <= MAX_AMOUNT:
            raise ValueError(f"an amount is a uint256 (0 to 2**256 - 1), got {number}")
        if dialect.name == "postgresql":
            return number
        return format(number, f"0{AMOUNT_DIGITS}d")

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int(value)

    def process_literal_param(self, value: int | None, dialect: Dialect) -> str:
        bound = self.process_bind_param(value, dialect)
        return "NULL" if bound is None else (str(bound) if isinstance(bound, int) else f"'{bound}'")

    @property
    def python_type(self) -> type[int]:
        return int
