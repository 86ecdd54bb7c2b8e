"""Nothing in the suite depends on the machine's speed or the wall clock."""

from __future__ import annotations

from hypothesis import settings


def test_no_hypothesis_example_has_a_deadline():
    assert settings.default is not None
    assert settings.default.deadline is None
