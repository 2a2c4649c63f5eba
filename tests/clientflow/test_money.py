"""Money: integer minor units per currency exponent, read and shown by locale."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clientflow_plugin.money import (
    MAX_MINOR,
    MoneyError,
    exponent,
    format_money,
    from_minor,
    parse_amount,
    round_minor,
    to_minor,
)


def test_yen_are_stored_as_whole_minor_units():
    assert to_minor("100", "JPY") == 100


def test_yen_are_shown_without_decimals():
    assert format_money(100, "JPY", "en") == "¥100"


def test_kuwaiti_dinars_are_shown_with_three_decimals():
    assert format_money(1500, "KWD", "en") == "KWD1.500"


def test_kuwaiti_dinars_keep_three_decimals_in_minor_units():
    assert to_minor("1.234", "KWD") == 1234


def test_each_currency_has_its_own_exponent():
    assert (exponent("EUR"), exponent("JPY"), exponent("KWD")) == (2, 0, 3)


def test_spanish_reader_types_thousands_with_dots_and_decimals_with_a_comma():
    assert parse_amount("1.234,56", "EUR", "es") == 123456


def test_english_reader_types_thousands_with_commas():
    assert parse_amount("1,234.56", "EUR", "en") == 123456


def test_euro_amount_with_three_decimals_is_refused():
    with pytest.raises(MoneyError, match="at most 2 decimal places"):
        parse_amount("10,555", "EUR", "es")


def test_yen_amount_with_decimals_is_refused():
    with pytest.raises(MoneyError, match="at most 0 decimal places"):
        parse_amount("100.5", "JPY", "en")


def test_amount_beyond_ten_to_the_thirteen_minor_units_is_refused():
    with pytest.raises(MoneyError, match="too large"):
        to_minor(Decimal(MAX_MINOR + 1) / 100, "EUR")


def test_ten_to_the_thirteen_minor_units_is_accepted():
    assert to_minor(Decimal(MAX_MINOR) / 100, "EUR") == MAX_MINOR


def test_text_that_is_not_an_amount_is_refused():
    with pytest.raises(MoneyError):
        parse_amount("twelve", "EUR", "en")


def test_floats_are_refused():
    with pytest.raises(TypeError):
        to_minor(0.1, "EUR")


def test_half_a_cent_rounds_up():
    assert round_minor(Decimal("5174.5")) == 5175


def test_minor_units_convert_back_exactly():
    assert from_minor(9075, "EUR") == Decimal("90.75")


def test_spanish_formatting_puts_the_symbol_after_the_amount():
    assert format_money(123456, "EUR", "es") == "1.234,56\xa0€"
