"""ISIN validation: shape and check digit, each refusal naming the field and saying what is expected."""

from __future__ import annotations

import pytest

from registry.assets.isin import check_digit, check_isin
from registry.errors import InvalidInputError


@pytest.mark.parametrize(
    "code", ["US0378331005", "DE000BAY0017", "GB0002634946", "AU0000XVGZA3", "US5949181045", " us0378331005 "]
)
def test_published_isins_are_accepted_and_normalised(code: str) -> None:
    assert check_isin(code) == code.strip().upper()


def test_the_check_digit_is_luhn_over_the_letters_as_numbers() -> None:
    # Apple's ISIN: US037833100 -> 3 0 2 8 0 3 7 8 3 3 1 0 0 -> check digit 5.
    assert check_digit("US037833100") == 5
    assert check_digit("AU0000XVGZA") == 3


@pytest.mark.parametrize("last", "012346789")
def test_every_wrong_check_digit_is_refused_naming_the_right_one(last: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_isin("US037833100" + last)
    assert caught.value.field == "isin"
    assert f"check digit {last}" in str(caught.value)
    assert "give 5" in str(caught.value)


@pytest.mark.parametrize(
    "code", ["US037833100", "US03783310055", "1S0378331005", "US0378331@05", "US-378331005", 12]
)
def test_a_malformed_isin_is_refused_with_the_expected_shape(code: object) -> None:
    with pytest.raises(InvalidInputError) as caught:
        check_isin(code, "terms.isin")
    assert caught.value.field == "terms.isin"
    assert "US0378331005" in str(caught.value)
