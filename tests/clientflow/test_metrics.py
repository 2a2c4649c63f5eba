"""The dashboard's figures, to the cent, against books built in each test."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from clientflow_plugin import clock, metrics
from clientflow_plugin.metrics import Period, PeriodError, PeriodKey
from host_stub.extensions import db
from tests.clientflow.dashboard_factories import Books

TODAY = date(2026, 6, 15)
ALL_TIME = Period(PeriodKey.ALL)


@pytest.fixture
def books(workspace) -> Books:
    return Books(workspace)


def cards(workspace, period: Period = ALL_TIME, today: date = TODAY):
    return metrics.cards(db.session, workspace, period, today)


def at_utc(*parts: int):
    """Make the workspace clock read this UTC moment."""
    return lambda: datetime(*parts, tzinfo=UTC)


# -- opportunities (C-08) ----------------------------------------------------


def test_open_value_and_weighted_value_of_open_opportunities(books, workspace):
    books.opportunity(10_000, 99)
    books.opportunity(20_000, 0)

    figures = cards(workspace)

    assert figures.open_value_minor == 30_000
    assert figures.weighted_value_minor == 9_900


def test_weighted_value_is_rounded_once_after_adding_up(books, workspace):
    books.opportunity(1, 50)
    books.opportunity(1, 50)

    figures = cards(workspace)

    assert figures.weighted_value_minor == 1


def test_won_and_lost_opportunities_are_not_open(books, workspace):
    books.opportunity(50_000, 100, stage="won")
    books.opportunity(30_000, 0, stage="lost")
    books.opportunity(10_000, 10, stage="prospect")
    books.opportunity(5_000, 75, stage="negotiation")

    figures = cards(workspace)

    assert figures.open_opportunities == 2
    assert figures.open_value_minor == 15_000
    assert figures.weighted_value_minor == 1_000 + 3_750


# -- active clients ----------------------------------------------------------


def test_active_clients_are_unarchived_with_an_active_project(books, workspace):
    books.client("Active", projects=("active",))
    books.client("Two active projects", projects=("active", "active"))
    books.client("Archived", archived=True, projects=("active",))
    books.client("Finished work", projects=("completed", "paused"))
    books.client("No projects", projects=())

    figures = cards(workspace)

    assert figures.active_clients == 2


# -- revenue and pending collection -------------------------------------------


def test_revenue_is_payments_on_issued_invoices(books, workspace):
    client = books.client()
    issued = books.invoice(client, 100_000, date(2026, 1, 10))
    books.payment(issued, 40_000, date(2026, 1, 20))
    books.payment(issued, 60_000, date(2026, 2, 20))
    voided = books.invoice(client, 25_000, date(2026, 1, 12), state="void")
    books.payment(voided, 25_000, date(2026, 1, 13))

    figures = cards(workspace)

    assert figures.revenue_minor == 100_000


def test_pending_is_issued_totals_less_their_payments(books, workspace):
    client = books.client()
    part_paid = books.invoice(client, 100_000, date(2026, 6, 1))
    books.payment(part_paid, 40_000, date(2026, 6, 5))
    books.invoice(client, 50_000, date(2026, 4, 1))
    books.paid_invoice(client, 30_000, date(2026, 3, 1), date(2026, 3, 9))
    books.invoice(client, 20_000, date(2026, 5, 1), state="void")
    books.invoice(client, 70_000, date(2026, 6, 1), state="draft")

    figures = cards(workspace)

    assert figures.pending_minor == 60_000 + 50_000


def test_overdue_part_is_what_is_left_of_invoices_past_due(books, workspace):
    client = books.client()
    late = books.invoice(client, 80_000, date(2026, 4, 1), due=date(2026, 5, 1))
    books.payment(late, 30_000, date(2026, 5, 10))
    books.invoice(client, 20_000, date(2026, 6, 1), due=date(2026, 7, 1))
    books.invoice(client, 9_900, date(2026, 5, 1), due=date(2026, 5, 31), state="void")

    figures = cards(workspace)

    assert figures.pending_minor == 70_000
    assert figures.overdue_minor == 50_000


def test_invoice_due_today_is_not_yet_overdue(books, workspace):
    client = books.client()
    books.invoice(client, 12_345, date(2026, 5, 16), due=TODAY)

    figures = cards(workspace)

    assert (figures.pending_minor, figures.overdue_minor) == (12_345, 0)


def test_overdue_starts_at_local_midnight_after_the_due_date(
    make_workspace, monkeypatch
):
    workspace = make_workspace(timezone="America/Mexico_City")
    books = Books(workspace)
    books.invoice(books.client(), 10_000, date(2027, 3, 1), due=date(2027, 3, 31))
    period = Period(PeriodKey.ALL)

    # 23:30 on 31 March in Mexico City, already 1 April in UTC.
    monkeypatch.setattr(clock, "now_utc", at_utc(2027, 4, 1, 5, 30))
    before = metrics.cards(db.session, workspace, period).overdue_minor
    # 00:30 on 1 April in Mexico City.
    monkeypatch.setattr(clock, "now_utc", at_utc(2027, 4, 1, 6, 30))
    after = metrics.cards(db.session, workspace, period).overdue_minor

    assert (before, after) == (0, 10_000)


# -- periods -----------------------------------------------------------------


def test_this_month_is_the_month_in_the_workspace_zone(make_workspace, monkeypatch):
    workspace = make_workspace(timezone="Pacific/Auckland")
    books = Books(workspace)
    invoice = books.invoice(books.client(), 15_000, date(2026, 12, 1))
    books.payment(invoice, 5_000, date(2026, 12, 31))
    books.payment(invoice, 10_000, date(2027, 1, 1))
    # Noon of 31 December in UTC is 01:00 of 1 January in Auckland.
    monkeypatch.setattr(clock, "now_utc", at_utc(2026, 12, 31, 12, 0))

    today = clock.today_in(workspace)
    period = metrics.resolve_period("month", today)
    figures = metrics.cards(db.session, workspace, period)

    assert today == date(2027, 1, 1)
    assert (period.start, period.end) == (date(2027, 1, 1), date(2027, 2, 1))
    assert figures.revenue_minor == 10_000


def test_custom_period_includes_its_first_and_last_day(books, workspace):
    invoice = books.invoice(books.client(), 100_000, date(2026, 2, 1))
    books.payment(invoice, 1_000, date(2026, 2, 28))
    books.payment(invoice, 2_000, date(2026, 3, 1))
    books.payment(invoice, 4_000, date(2026, 3, 31))
    books.payment(invoice, 8_000, date(2026, 4, 1))

    period = metrics.resolve_period(
        "custom", TODAY, date(2026, 3, 1), date(2026, 3, 31)
    )
    figures = cards(workspace, period)

    assert figures.revenue_minor == 6_000


def test_this_year_and_last_12_months_are_half_open_ranges():
    this_year = metrics.resolve_period("year", TODAY)
    twelve = metrics.resolve_period("12m", TODAY)

    assert (this_year.start, this_year.end) == (date(2026, 1, 1), date(2027, 1, 1))
    assert (twelve.start, twelve.end) == (date(2025, 7, 1), date(2026, 7, 1))


def test_custom_period_with_days_in_the_wrong_order_is_refused():
    with pytest.raises(PeriodError):
        metrics.resolve_period("custom", TODAY, date(2026, 3, 2), date(2026, 3, 1))


def test_revenue_of_a_period_leaves_out_voided_invoices(books, workspace):
    client = books.client()
    books.paid_invoice(client, 30_000, date(2026, 1, 5), date(2026, 2, 5))
    voided = books.invoice(client, 7_000, date(2026, 1, 6), state="void")
    books.payment(voided, 7_000, date(2026, 2, 6))

    period = metrics.resolve_period("year", TODAY)
    figures = cards(workspace, period)

    assert figures.revenue_minor == 30_000


# -- tenancy -----------------------------------------------------------------


def test_figures_leave_out_other_workspaces(books, workspace, make_workspace):
    mine = books.client("Mine")
    books.paid_invoice(mine, 10_000, date(2026, 5, 1), date(2026, 5, 2))
    books.opportunity(1_000, 50)
    other = Books(make_workspace("elsewhere"))
    theirs = other.client("Theirs")
    other.paid_invoice(theirs, 990_000, date(2026, 5, 1), date(2026, 5, 2))
    other.invoice(theirs, 500_000, date(2026, 1, 1))
    other.opportunity(77_000, 90)

    figures = cards(workspace)
    shares = metrics.client_shares(db.session, workspace, ALL_TIME)
    months = metrics.monthly_revenue(db.session, workspace, TODAY)

    assert figures.active_clients == 1
    assert figures.revenue_minor == 10_000
    assert figures.pending_minor == 0
    assert figures.open_value_minor == 1_000
    assert [c.name for c in shares.clients] == ["Mine"]
    assert sum(m.invoiced_minor for m in months) == 10_000


# -- revenue per month (C-09) ------------------------------------------------


def test_months_without_revenue_are_zero_in_the_twelve_month_chart(books, workspace):
    invoice = books.invoice(books.client(), 50_000, date(2026, 3, 10))
    books.payment(invoice, 50_000, date(2026, 4, 2))

    months = metrics.monthly_revenue(db.session, workspace, TODAY)

    assert [(m.year, m.month) for m in months][0] == (2025, 7)
    assert [(m.year, m.month) for m in months][-1] == (2026, 6)
    assert [m.invoiced_minor for m in months] == [0] * 8 + [50_000, 0, 0, 0]
    assert [m.collected_minor for m in months] == [0] * 9 + [50_000, 0, 0]


def test_monthly_revenue_leaves_out_voided_and_draft_invoices(books, workspace):
    client = books.client()
    books.paid_invoice(client, 20_000, date(2026, 5, 3), date(2026, 5, 20))
    voided = books.invoice(client, 9_000, date(2026, 5, 4), state="void")
    books.payment(voided, 9_000, date(2026, 5, 21))
    books.invoice(client, 4_000, date(2026, 5, 5), state="draft")

    may = metrics.monthly_revenue(db.session, workspace, TODAY)[-2]

    assert (may.month, may.invoiced_minor, may.collected_minor) == (5, 20_000, 20_000)


def test_monthly_revenue_leaves_out_months_before_the_window(books, workspace):
    client = books.client()
    books.paid_invoice(client, 11_000, date(2025, 6, 30), date(2025, 6, 30))
    books.paid_invoice(client, 22_000, date(2025, 7, 1), date(2025, 7, 1))

    months = metrics.monthly_revenue(db.session, workspace, TODAY)

    assert sum(m.invoiced_minor for m in months) == 22_000
    assert sum(m.collected_minor for m in months) == 22_000


# -- this year against last year (C-09) --------------------------------------


def test_growth_from_zero_is_not_available_and_between_zeros_is_zero(books, workspace):
    books.paid_invoice(books.client(), 50_000, date(2026, 3, 1), date(2026, 3, 20))

    comparison = metrics.year_comparison(db.session, workspace, TODAY)
    march, april = comparison.months[2], comparison.months[3]

    assert (march.last_year_minor, march.this_year_minor) == (0, 50_000)
    assert march.growth is None
    assert (april.last_year_minor, april.this_year_minor) == (0, 0)
    assert april.growth == Decimal("0")


def test_growth_is_the_change_on_last_year_to_one_decimal(books, workspace):
    client = books.client()
    books.paid_invoice(client, 30_000, date(2025, 5, 1), date(2025, 5, 10))
    books.paid_invoice(client, 40_000, date(2026, 5, 1), date(2026, 5, 10))
    books.paid_invoice(client, 20_000, date(2025, 1, 1), date(2025, 1, 10))
    books.paid_invoice(client, 10_000, date(2026, 1, 1), date(2026, 1, 10))

    comparison = metrics.year_comparison(db.session, workspace, TODAY)

    assert comparison.months[4].growth == Decimal("33.3")
    assert comparison.months[0].growth == Decimal("-50.0")


def test_months_still_to_come_have_no_figure_this_year(books, workspace):
    books.paid_invoice(books.client(), 10_000, date(2025, 9, 1), date(2025, 9, 2))

    comparison = metrics.year_comparison(db.session, workspace, TODAY)
    june, september = comparison.months[5], comparison.months[8]

    assert (comparison.this_year, comparison.last_year) == (2026, 2025)
    assert (june.future, june.this_year_minor) == (False, 0)
    assert september.future is True
    assert september.this_year_minor is None and september.growth is None
    assert september.last_year_minor == 10_000


# -- revenue per client ------------------------------------------------------


def test_client_shares_name_the_top_clients_and_add_up_the_rest(books, workspace):
    for n, amount in enumerate(
        (70_000, 60_000, 50_000, 40_000, 30_000, 20_000, 10_000)
    ):
        client = books.client(f"Client {n + 1}")
        books.paid_invoice(client, amount, date(2026, 1, 1), date(2026, 1, 2))

    shares = metrics.client_shares(db.session, workspace, ALL_TIME)

    assert [c.name for c in shares.clients] == [f"Client {n}" for n in range(1, 6)]
    assert [c.collected_minor for c in shares.clients] == [
        70_000,
        60_000,
        50_000,
        40_000,
        30_000,
    ]
    assert [c.share for c in shares.clients] == [
        Decimal("25.0"),
        Decimal("21.4"),
        Decimal("17.9"),
        Decimal("14.3"),
        Decimal("10.7"),
    ]
    assert (shares.others_count, shares.others_minor) == (2, 30_000)
    assert shares.others_share == Decimal("10.7")
    assert shares.total_minor == 280_000


def test_client_shares_follow_the_period(books, workspace):
    old, new = books.client("Old friend"), books.client("New friend")
    books.paid_invoice(old, 90_000, date(2025, 3, 1), date(2025, 3, 2))
    books.paid_invoice(new, 10_000, date(2026, 3, 1), date(2026, 3, 2))

    shares = metrics.client_shares(
        db.session, workspace, metrics.resolve_period("year", TODAY)
    )

    assert [(c.name, c.collected_minor) for c in shares.clients] == [
        ("New friend", 10_000)
    ]
    assert shares.total_minor == 10_000


def test_client_shares_leave_out_payments_on_voided_invoices(books, workspace):
    client = books.client("Careful client")
    voided = books.invoice(client, 5_000, date(2026, 2, 1), state="void")
    books.payment(voided, 5_000, date(2026, 2, 2))

    shares = metrics.client_shares(db.session, workspace, ALL_TIME)

    assert shares.clients == [] and shares.total_minor == 0


def test_client_shares_count_archived_clients_history(books, workspace):
    gone = books.client("Former client", archived=True, projects=())
    books.paid_invoice(gone, 8_000, date(2026, 2, 1), date(2026, 2, 2))

    shares = metrics.client_shares(db.session, workspace, ALL_TIME)

    assert [(c.name, c.collected_minor) for c in shares.clients] == [
        ("Former client", 8_000)
    ]


# -- the whole page ------------------------------------------------------------


def test_dashboard_agrees_with_each_figure_on_its_own(books, workspace):
    client = books.client()
    books.paid_invoice(client, 12_300, date(2025, 2, 3), date(2025, 2, 28))
    books.paid_invoice(client, 45_600, date(2026, 2, 3), date(2026, 3, 1))
    books.invoice(client, 7_800, date(2026, 6, 1))
    period = metrics.resolve_period("12m", TODAY)

    whole = metrics.dashboard(db.session, workspace, period, TODAY)

    assert whole.cards == metrics.cards(db.session, workspace, period, TODAY)
    assert whole.months == metrics.monthly_revenue(db.session, workspace, TODAY)
    assert whole.comparison == metrics.year_comparison(db.session, workspace, TODAY)
    assert whole.shares == metrics.client_shares(db.session, workspace, period)


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2026, 3, 1), date(2026, 3, 1)),  # one day, the first of a month
        (date(2026, 3, 10), date(2026, 3, 20)),  # inside one month
        (date(2026, 2, 28), date(2026, 4, 1)),  # partial month at both ends
        (date(2026, 3, 1), date(2026, 3, 31)),  # exactly one month
        (date(1, 1, 1), date(9999, 12, 31)),  # every day a date can hold
    ],
)
def test_revenue_share_of_any_custom_period_matches_the_payments(
    books, workspace, first, last
):
    ana, bea = books.client("Ana"), books.client("Bea")
    payments = [
        (ana, date(2026, 2, 27), 100),
        (ana, date(2026, 2, 28), 200),
        (bea, date(2026, 3, 1), 400),
        (ana, date(2026, 3, 15), 800),
        (bea, date(2026, 3, 31), 1_600),
        (bea, date(2026, 4, 1), 3_200),
        (ana, date(2026, 4, 2), 6_400),
    ]
    for client, day, amount in payments:
        books.payment(books.invoice(client, amount, date(2026, 2, 1)), amount, day)
    expected = {}
    for client, day, amount in payments:
        if first <= day <= last:
            expected[client.name] = expected.get(client.name, 0) + amount

    period = metrics.resolve_period("custom", TODAY, first, last)
    shares = metrics.client_shares(db.session, workspace, period)

    assert {s.name: s.collected_minor for s in shares.clients} == expected
    assert shares.total_minor == sum(expected.values())
    figures = cards(workspace, period)
    assert figures.revenue_minor == sum(expected.values())
