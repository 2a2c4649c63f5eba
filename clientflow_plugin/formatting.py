"""Template filters that format money, dates and percentages for the reader."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale

from .money import format_money


def reader_locale() -> str:
    return str(get_locale() or "en")


def money(minor: int | None, currency: str) -> str:
    return format_money(minor or 0, currency, reader_locale())


def day(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, fmt)
    return format_date(value, fmt)


def percent(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    return format_decimal(Decimal(value).normalize(), format="#,##0.####") + " %"


def register_filters(app: Flask) -> None:
    app.add_template_filter(money, "cf_money")
    app.add_template_filter(day, "cf_date")
    app.add_template_filter(percent, "cf_percent")
