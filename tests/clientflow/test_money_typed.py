"""Amounts typed by people: separators of their language, never exponents."""

from __future__ import annotations

import pytest

from clientflow_plugin.money import MoneyError, parse_amount


@pytest.mark.parametrize("typed", ["1e9", "NaN", "Infinity", "0x10", "1_000", "--5"])
def test_typed_amount_refuses_what_is_not_digits_and_separators(typed):
    with pytest.raises(MoneyError):
        parse_amount(typed, "EUR", "es")


@pytest.mark.parametrize(
    ("typed", "locale", "minor"),
    [("1.234,56", "es", 123456), ("1,234.56", "en", 123456), (" 7,5 ", "es", 750)],
)
def test_typed_amount_reads_the_readers_separators(typed, locale, minor):
    assert parse_amount(typed, "EUR", locale) == minor
