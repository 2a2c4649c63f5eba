"""Template filters that format money, dates and percentages for the reader."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask, current_app, request, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import lazy_gettext as _l

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
    app.add_template_global(clientflow_tabs)


TABS = (
    ("clientflow.dashboard.index", _l("Dashboard"), ("clientflow.dashboard.",)),
    ("clientflow.clients.index", _l("Clients"), ("clientflow.clients.",)),
    (
        "clientflow.billing.invoices",
        _l("Invoices"),
        ("clientflow.billing.", "clientflow.sending."),
    ),
    ("clientflow.recurring.index", _l("Recurring billing"), ("clientflow.recurring.",)),
    ("clientflow.pipeline.board", _l("Pipeline"), ("clientflow.pipeline.",)),
    ("clientflow.imports.index", _l("Import"), ("clientflow.imports.",)),
    (
        "clientflow.integrations.index",
        _l("Integrations"),
        ("clientflow.integrations.",),
    ),
)


def clientflow_tabs() -> list[dict]:
    """The section tabs of ClientFlow's pages, for the areas that exist."""
    tabs = []
    endpoint = request.endpoint or ""
    for target, label, prefixes in TABS:
        if target not in current_app.view_functions:
            continue
        tabs.append(
            {
                "url": url_for(target),
                "label": str(label),
                "active": endpoint.startswith(prefixes),
            }
        )
    return tabs
