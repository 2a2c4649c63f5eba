"""Money as Decimal and integer minor units, with each currency's own exponent.

Amounts are stored as integers in the currency's minor unit (cents for EUR,
yen for JPY, fils for KWD). Arithmetic happens on ``Decimal`` and every
rounding is half-up to the minor unit. Floats are refused everywhere.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_precision,
    parse_decimal,
)

_TYPED_AMOUNT = re.compile(r"[+-]?(\d[\d.,]*|[.,]\d+)")

#: The largest amount accepted anywhere, in minor units.
MAX_MINOR = 10**13


class MoneyError(ValueError):
    """An amount that cannot be represented in the currency."""


def exponent(currency: str) -> int:
    """Digits after the decimal point of ``currency`` (EUR 2, JPY 0, KWD 3)."""
    return get_currency_precision(currency.upper())


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-exponent(currency))


def round_minor(value: Decimal) -> int:
    """Round an amount already expressed in minor units half-up to an integer."""
    if isinstance(value, float):
        raise TypeError("floats are not money")
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """An exact major-unit amount as minor units; too many decimals is an error."""
    if isinstance(amount, float):
        raise TypeError("floats are not money")
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation as exc:
        raise MoneyError(f"{amount!r} is not an amount") from exc
    if not value.is_finite():
        raise MoneyError(f"{amount!r} is not an amount")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise MoneyError(
            f"{currency} amounts have at most {exponent(currency)} decimal places"
        )
    minor = int(scaled)
    if abs(minor) > MAX_MINOR:
        raise MoneyError("the amount is too large")
    return minor


def from_minor(minor: int, currency: str) -> Decimal:
    """Minor units back to an exact major-unit Decimal."""
    return Decimal(int(minor)).scaleb(-exponent(currency)).quantize(quantum(currency))


def parse_amount(text: str, currency: str, locale: str = "en") -> int:
    """Read an amount typed by a person in ``locale`` ("1.234,56" in Spanish)."""
    cleaned = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if not cleaned:
        raise MoneyError("an amount is required")
    # People type digits and separators; "1e9", "NaN" or "Infinity" are no amount.
    if not _TYPED_AMOUNT.fullmatch(cleaned):
        raise MoneyError(f"{text!r} is not an amount")
    try:
        value = parse_decimal(cleaned, locale=locale, strict=True)
    except NumberFormatError:
        try:
            value = Decimal(cleaned)
        except InvalidOperation as exc:
            raise MoneyError(f"{text!r} is not an amount") from exc
    return to_minor(value, currency)


def format_money(minor: int, currency: str, locale: str = "en") -> str:
    """An amount for people, in their language, with the currency's decimals."""
    return format_currency(
        from_minor(minor, currency),
        currency,
        locale=locale,
        currency_digits=True,
    )


def format_plain(minor: int, currency: str) -> str:
    """An amount with a point and the currency's decimals, for forms and CSV."""
    return str(from_minor(minor, currency))
