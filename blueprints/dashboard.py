"""The ClientFlow landing page: the four cards and three charts.

The page and its charts' JSON are built from the same figures, shaped by the
same functions, so a chart and the table beside it always agree. Amounts are
shown in the workspace's currency and the reader's language.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Blueprint, jsonify, render_template, request
from flask_babel import format_date, format_decimal, gettext, ngettext

from clientflow_plugin import metrics
from clientflow_plugin.clock import today_in
from clientflow_plugin.formatting import money, percent
from clientflow_plugin.forms.dashboard import PeriodForm
from clientflow_plugin.metrics import Period, PeriodKey
from clientflow_plugin.money import format_plain
from clientflow_plugin.schemas.dashboard import (
    ClientsChartOut,
    MonthlyChartOut,
    YearComparisonChartOut,
)
from host_stub.sdk import current_workspace, db

bp = Blueprint("dashboard", __name__)


def _workspace():
    return current_workspace._get_current_object()


def _money(minor: int, currency: str) -> dict:
    return {
        "amount": format_plain(minor, currency),
        "minor": minor,
        "formatted": money(minor, currency),
    }


def _signed_percent(value: Decimal) -> str:
    if value == 0:
        return percent(0)
    return format_decimal(value, format="+#,##0.0;-#,##0.0") + " %"


def _period_from_request(today: date) -> tuple[PeriodForm, Period]:
    """The period the query string asks for; all time when it asks for nothing valid."""
    form = PeriodForm(formdata=request.args)
    if not request.args or not form.validate():
        return form, Period(PeriodKey.ALL)
    period = metrics.resolve_period(
        form.period.data, today, form.start.data, form.end.data
    )
    return form, period


def _period_args(period: Period) -> dict:
    """The query string that asks the charts' JSON for the same period."""
    if period.key is PeriodKey.ALL:
        return {}
    args = {"period": period.key.value}
    if period.key is PeriodKey.CUSTOM:
        args.update(start=period.start.isoformat(), end=period.last_day.isoformat())
    return args


def _period_label(period: Period) -> str:
    if period.key is PeriodKey.ALL:
        return gettext("All time")
    if period.key is PeriodKey.THIS_YEAR:
        return gettext("This year (%(year)s)", year=period.start.year)
    if period.key is PeriodKey.LAST_12_MONTHS:
        return gettext("Last 12 months")
    if period.key is PeriodKey.THIS_MONTH:
        return format_date(period.start, "LLLL y").capitalize()
    return gettext(
        "%(first)s to %(last)s",
        first=format_date(period.start, "medium"),
        last=format_date(period.last_day, "medium"),
    )


def _period_payload(period: Period) -> dict:
    return {
        "key": period.key.value,
        "label": _period_label(period),
        "start": period.start,
        "last_day": period.last_day,
    }


def cards_view(cards: metrics.Cards, period: Period, currency: str) -> dict:
    """The four cards as the template shows them."""
    return {
        "active_clients": format_decimal(cards.active_clients),
        "revenue": _money(cards.revenue_minor, currency),
        "period_label": _period_label(period),
        "pending": _money(cards.pending_minor, currency),
        "overdue": _money(cards.overdue_minor, currency),
        "has_overdue": cards.overdue_minor > 0,
        "open_count": cards.open_opportunities,
        "open_value": _money(cards.open_value_minor, currency),
        "weighted_value": _money(cards.weighted_value_minor, currency),
    }


def monthly_payload(months: list[metrics.MonthRevenue], currency: str) -> dict:
    """Revenue per month, for the table and for ``MonthlyChartOut``."""
    return {
        "currency": currency,
        "series": [
            {"key": "invoiced", "label": gettext("Invoiced")},
            {"key": "collected", "label": gettext("Collected")},
        ],
        "months": [
            {
                "month": f"{m.year:04d}-{m.month:02d}",
                "label": format_date(m.first_day, "MMM y"),
                "invoiced": _money(m.invoiced_minor, currency),
                "collected": _money(m.collected_minor, currency),
            }
            for m in months
        ],
        "totals": {
            "invoiced": _money(sum(m.invoiced_minor for m in months), currency),
            "collected": _money(sum(m.collected_minor for m in months), currency),
        },
    }


def clients_payload(
    shares: metrics.ClientShares, period: Period, currency: str
) -> dict:
    """Revenue per client, for the table and for ``ClientsChartOut``."""
    return {
        "currency": currency,
        "period": _period_payload(period),
        "total": _money(shares.total_minor, currency),
        "clients": [
            {
                "client_id": c.client_id,
                "name": c.name,
                "collected": _money(c.collected_minor, currency),
                "share": str(c.share),
                "share_label": percent(c.share),
            }
            for c in shares.clients
        ],
        "others": {
            "count": shares.others_count,
            "label": ngettext(
                "Others (%(num)d client)",
                "Others (%(num)d clients)",
                shares.others_count,
            ),
            "collected": _money(shares.others_minor, currency),
            "share": str(shares.others_share),
            "share_label": percent(shares.others_share),
        },
    }


def _growth_label(month: metrics.MonthComparison) -> str:
    if month.future:
        return "—"
    if month.growth is None:
        return gettext("n/a")
    return _signed_percent(month.growth)


def comparison_payload(comparison: metrics.YearComparison, currency: str) -> dict:
    """This year against last, for the table and for ``YearComparisonChartOut``."""
    return {
        "currency": currency,
        "this_year": comparison.this_year,
        "last_year": comparison.last_year,
        "series": [
            {"key": "last_year", "label": str(comparison.last_year)},
            {"key": "this_year", "label": str(comparison.this_year)},
        ],
        "months": [
            {
                "month": m.month,
                "label": format_date(date(comparison.this_year, m.month, 1), "LLL"),
                "last_year": _money(m.last_year_minor, currency),
                "this_year": None
                if m.this_year_minor is None
                else _money(m.this_year_minor, currency),
                "growth": None if m.growth is None else str(m.growth),
                "growth_label": _growth_label(m),
                "future": m.future,
            }
            for m in comparison.months
        ],
    }


@bp.get("/")
def index():
    """The landing page: every figure, with a table beside each chart."""
    workspace = _workspace()
    today = today_in(workspace)
    form, period = _period_from_request(today)

    figures = metrics.dashboard(db.session, workspace, period, today)

    currency = workspace.currency
    return render_template(
        "clientflow/dashboard.html",
        form=form,
        period=_period_payload(period),
        cards=cards_view(figures.cards, period, currency),
        monthly=monthly_payload(figures.months, currency),
        clients=clients_payload(figures.shares, period, currency),
        comparison=comparison_payload(figures.comparison, currency),
        chart_args=_period_args(period),
    )


@bp.get("/chart/monthly.json")
def monthly_chart():
    """Invoiced and collected per month over the last twelve months."""
    workspace = _workspace()

    months = metrics.monthly_revenue(db.session, workspace)

    return jsonify(MonthlyChartOut().dump(monthly_payload(months, workspace.currency)))


@bp.get("/chart/clients.json")
def clients_chart():
    """Collected revenue per client over the period of the query string."""
    workspace = _workspace()
    form, period = _period_from_request(today_in(workspace))
    if request.args and form.errors:
        messages = {
            name: [str(m) for m in errors] for name, errors in form.errors.items()
        }
        return jsonify(error="invalid_period", fields=messages), 400

    shares = metrics.client_shares(db.session, workspace, period)

    payload = clients_payload(shares, period, workspace.currency)
    return jsonify(ClientsChartOut().dump(payload))


@bp.get("/chart/yoy.json")
def comparison_chart():
    """Collected revenue of this year against last year, month by month."""
    workspace = _workspace()

    comparison = metrics.year_comparison(db.session, workspace)

    payload = comparison_payload(comparison, workspace.currency)
    return jsonify(YearComparisonChartOut().dump(payload))
