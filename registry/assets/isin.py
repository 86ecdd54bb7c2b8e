"""ISIN (ISO 6166) validation: two letters of country, nine letters or digits, a check digit.

The check digit is the Luhn digit of the code's first eleven characters with each letter replaced by
its two-digit number (A = 10 … Z = 35), e.g. ``US0378331005``.
"""

from __future__ import annotations

import re

from registry.errors import InvalidInputError

_SHAPE = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")


def check_digit(body: str) -> int:
    """The ISIN check digit of the first eleven characters ``body``."""
    digits = "".join(str(int(char, 36)) for char in body)
    total = 0
    # Luhn from the right: the rightmost digit of the body is doubled (the check digit comes after it).
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def check_isin(value: object, field_name: str = "isin") -> str:
    """``value`` (stripped, upper-cased) if it is a valid ISIN.

    Raises:
        InvalidInputError: wrong shape or wrong check digit; the message says which and what is expected.
    """
    if not isinstance(value, str):
        raise InvalidInputError(field_name, f"an ISIN is text, e.g. 'US0378331005'; got {value!r}")
    code = value.strip().upper()
    if not _SHAPE.match(code):
        raise InvalidInputError(
            field_name,
            f"{value!r} is not an ISIN: expected 12 characters, two letters of country, nine letters or "
            "digits, then a check digit (e.g. US0378331005)",
        )
    expected = check_digit(code[:11])
    if int(code[11]) != expected:
        raise InvalidInputError(
            field_name,
            f"{code} has the check digit {code[11]}, but its first eleven characters give {expected}",
        )
    return code
