"""The dashboard's figures, each one aggregate SQL scoped to one workspace.

The definitions are those of DESIGN.md §4, spelt out in ``docs/dashboard.md``:

- *Active clients*: clients that are not archived and have at least one
  project whose status is active.
- *Collected revenue*: payments whose invoice is issued. Payments recorded on
  an invoice that was later voided are left out: voiding withdraws the claim,
  and the money is refunded or applied to the invoice that replaces it, where
  it counts once.
- *Invoiced*: totals of issued invoices by issue date; drafts and voided
  invoices are left out.
- *Pending collection*: the totals of issued invoices less their payments;
  its overdue part covers the invoices due before today.
- *Opportunities*: the value of opportunities in an open stage, and the
  weighted value Σ value × probability / 100, computed exactly and rounded
  half-up once.

Dates are business dates as the agency sees them: "today" is the date in the
workspace's time zone, and every range is half-open, ``start <= d < end``.
Each function runs a fixed number of statements whatever the amount of data.

Amounts are counted in the workspace's currency; invoices in another one
(kept from before a change of currency) are left out of the sums.

The sums of invoices and payments are read from the totals the database
keeps per day, per client and month, and per client (``RevenueDay``,
``ClientRevenueMonth``, ``ClientRevenue``; see ``revenue_totals.py``), so a
figure reads a few hundred rows whatever the length of the history:

- *pending* = invoiced − collected, over every day;
- *overdue* = due − due paid, over the days before today (an invoice is
  "due" on its due date, and its payments are "due paid" on that date too);
- a custom period that cuts a month in two adds the payments of its partial
  months from the payments themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from sqlalchemy import (
    and_,
    case,
    func,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from .clock import add_months, today_in
from .models import (
    OPEN_STAGES,
    Client,
    ClientRevenue,
    ClientRevenueMonth,
    Invoice,
    InvoiceState,
    Opportunity,
    Payment,
    Project,
    ProjectStatus,
    RevenueDay,
)
from .revenue_totals import month_start

#: Clients named in the revenue share; the rest are added up as "others".
TOP_CLIENTS = 5

ONE_DECIMAL = Decimal("0.1")


class PeriodKey(StrEnum):
    ALL = "all"
    THIS_YEAR = "year"
    LAST_12_MONTHS = "12m"
    THIS_MONTH = "month"
    CUSTOM = "custom"


class PeriodError(ValueError):
    """A custom period whose dates are missing or in the wrong order."""


@dataclass(frozen=True)
class Period:
    """Business dates ``start <= d < end``; ``None`` leaves that side open."""

    key: PeriodKey
    start: date | None = None
    end: date | None = None

    @property
    def last_day(self) -> date | None:
        """The period's last day, as people read a range (inclusive)."""
        return self.end - timedelta(days=1) if self.end else None


@dataclass(frozen=True)
class Cards:
    """The four figures at the top of the dashboard, in minor units."""

    active_clients: int
    revenue_minor: int
    pending_minor: int
    overdue_minor: int
    open_opportunities: int
    open_value_minor: int
    weighted_value_minor: int


@dataclass(frozen=True)
class MonthRevenue:
    year: int
    month: int
    invoiced_minor: int
    collected_minor: int

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


@dataclass(frozen=True)
class MonthComparison:
    """One calendar month of this year beside the same month of last year.

    ``this_year_minor`` is ``None`` for months still to come. ``growth`` is a
    percentage with one decimal; ``None`` means it cannot be stated, either
    because last year's month is zero while this year's is not, or because
    the month is still to come (``future``).
    """

    month: int
    last_year_minor: int
    this_year_minor: int | None
    growth: Decimal | None
    future: bool


@dataclass(frozen=True)
class YearComparison:
    this_year: int
    last_year: int
    months: list[MonthComparison]


@dataclass(frozen=True)
class ClientShare:
    client_id: int
    name: str
    collected_minor: int
    share: Decimal


@dataclass(frozen=True)
class ClientShares:
    """Collected revenue of the top clients, and of everyone else together."""

    clients: list[ClientShare]
    others_count: int
    others_minor: int
    others_share: Decimal
    total_minor: int


@dataclass(frozen=True)
class Dashboard:
    today: date
    period: Period
    cards: Cards
    months: list[MonthRevenue]
    comparison: YearComparison
    shares: ClientShares


# -- periods and months ------------------------------------------------------


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def twelve_months(today: date) -> tuple[date, date]:
    """The current month and the eleven before it, as ``[start, end)``."""
    this_month = first_of_month(today)
    return add_months(this_month, -11), add_months(this_month, 1)


def resolve_period(
    key: str,
    today: date,
    start: date | None = None,
    last_day: date | None = None,
) -> Period:
    """The half-open range of a period chosen by name on ``today``.

    A custom period takes its first and last day as people give them, both
    included.
    """
    period_key = PeriodKey(key)
    if period_key is PeriodKey.ALL:
        return Period(period_key)
    if period_key is PeriodKey.THIS_YEAR:
        return Period(period_key, date(today.year, 1, 1), date(today.year + 1, 1, 1))
    if period_key is PeriodKey.LAST_12_MONTHS:
        return Period(period_key, *twelve_months(today))
    if period_key is PeriodKey.THIS_MONTH:
        month = first_of_month(today)
        return Period(period_key, month, add_months(month, 1))
    if start is None or last_day is None:
        raise PeriodError("a custom period needs a first and a last day")
    if start > last_day:
        raise PeriodError("the first day comes after the last day")
    # The last day a date can hold has no day after it; no book reaches it.
    last_day = min(last_day, date.max - timedelta(days=1))
    return Period(period_key, start, last_day + timedelta(days=1))


def _months_between(start: date, end: date) -> list[tuple[int, int]]:
    months, current = [], start
    while current < end:
        months.append((current.year, current.month))
        current = add_months(current, 1)
    return months


# -- SQL building blocks -----------------------------------------------------


def _total(column) -> ColumnElement:
    """``sum`` that answers 0, not NULL, when no row matches."""
    return func.coalesce(func.sum(column), 0)


def _within(column, start: date | None, end: date | None) -> ColumnElement:
    conditions = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return and_(true(), *conditions)


def _one_row(*parts):
    """A statement that returns the columns of single-row subqueries side by side."""
    subqueries = [part.subquery() for part in parts]
    joined = subqueries[0]
    for subquery in subqueries[1:]:
        joined = joined.join(subquery, true())
    return select(*(c for s in subqueries for c in s.c)).select_from(joined)


def _int(value) -> int:
    # PostgreSQL adds bigints up as numeric; the figures are whole minor units.
    return int(value or 0)


# -- the figures -------------------------------------------------------------


def cards(
    session: Session, workspace, period: Period, today: date | None = None
) -> Cards:
    """The four cards, in one statement."""
    return _cards(session, workspace, period, today or today_in(workspace))


def _cards(session: Session, workspace, period: Period, today: date) -> Cards:
    ws = workspace.id

    active = select(func.count().label("active_clients")).where(
        Client.workspace_id == ws,
        Client.archived.is_(False),
        select(Project.id)
        .where(
            Project.client_id == Client.id,
            Project.workspace_id == ws,
            Project.status == ProjectStatus.ACTIVE.value,
        )
        .exists(),
    )
    in_period = _within(RevenueDay.day, period.start, period.end)
    books = select(
        _total(RevenueDay.invoiced_minor).label("invoiced"),
        _total(RevenueDay.collected_minor).label("collected"),
        _total(case((in_period, RevenueDay.collected_minor), else_=0)).label(
            "collected_in_period"
        ),
        _total(
            case(
                (
                    RevenueDay.day < today,
                    RevenueDay.due_minor - RevenueDay.due_paid_minor,
                ),
                else_=0,
            )
        ).label("overdue"),
    ).where(*_days_of(workspace))
    open_stages = [s.value for s in OPEN_STAGES]
    pipeline = select(
        func.count().label("open_count"),
        _total(Opportunity.value_minor).label("open_value"),
        _total(Opportunity.value_minor * Opportunity.probability).label("weighted"),
    ).where(Opportunity.workspace_id == ws, Opportunity.stage.in_(open_stages))

    row = session.execute(_one_row(active, books, pipeline)).one()

    weighted = (Decimal(_int(row.weighted)) / 100).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return Cards(
        active_clients=_int(row.active_clients),
        revenue_minor=_int(row.collected_in_period),
        pending_minor=_int(row.invoiced) - _int(row.collected),
        overdue_minor=_int(row.overdue),
        open_opportunities=_int(row.open_count),
        open_value_minor=_int(row.open_value),
        weighted_value_minor=int(weighted),
    )


def _days_of(workspace) -> tuple[ColumnElement, ...]:
    return (
        RevenueDay.workspace_id == workspace.id,
        RevenueDay.currency == workspace.currency,
    )


def _monthly_sums(
    session: Session, workspace, start: date, end: date
) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """Invoiced and collected per month of ``[start, end)``, in one statement."""
    month = month_start(RevenueDay.day)
    statement = (
        select(
            month,
            func.sum(RevenueDay.invoiced_minor),
            func.sum(RevenueDay.collected_minor),
        )
        .where(*_days_of(workspace), _within(RevenueDay.day, start, end))
        .group_by(month)
    )
    invoiced: dict[tuple[int, int], int] = {}
    collected: dict[tuple[int, int], int] = {}
    for first_day, invoiced_minor, collected_minor in session.execute(statement):
        key = (first_day.year, first_day.month)
        invoiced[key] = _int(invoiced_minor)
        collected[key] = _int(collected_minor)
    return invoiced, collected


def _monthly_revenue(
    invoiced: dict, collected: dict, start: date, end: date
) -> list[MonthRevenue]:
    return [
        MonthRevenue(y, m, invoiced.get((y, m), 0), collected.get((y, m), 0))
        for y, m in _months_between(start, end)
    ]


def growth(last_year_minor: int, this_year_minor: int) -> Decimal | None:
    """This year's change on last year in percent, one decimal, half-up.

    Two zeros are no change (0 %); a start from zero has no percentage.
    """
    if last_year_minor == 0:
        return Decimal("0.0") if this_year_minor == 0 else None
    change = Decimal(this_year_minor - last_year_minor) * 100 / last_year_minor
    return change.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def _comparison(collected: dict, today: date) -> YearComparison:
    months = []
    for month in range(1, 13):
        last = collected.get((today.year - 1, month), 0)
        future = month > today.month
        this = None if future else collected.get((today.year, month), 0)
        months.append(
            MonthComparison(
                month=month,
                last_year_minor=last,
                this_year_minor=this,
                growth=None if this is None else growth(last, this),
                future=future,
            )
        )
    return YearComparison(today.year, today.year - 1, months)


def monthly_revenue(
    session: Session, workspace, today: date | None = None
) -> list[MonthRevenue]:
    """Invoiced and collected in each of the last twelve months, oldest first."""
    today = today or today_in(workspace)
    start, end = twelve_months(today)
    invoiced, collected = _monthly_sums(session, workspace, start, end)
    return _monthly_revenue(invoiced, collected, start, end)


def year_comparison(
    session: Session, workspace, today: date | None = None
) -> YearComparison:
    """Collected revenue of this year beside last year's, month by month."""
    today = today or today_in(workspace)
    start = date(today.year - 1, 1, 1)
    end = add_months(first_of_month(today), 1)
    _, collected = _monthly_sums(session, workspace, start, end)
    return _comparison(collected, today)


def _share(part: int, total: int) -> Decimal:
    if total == 0:
        return Decimal(0)
    return (Decimal(part) * 100 / total).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def client_shares(
    session: Session, workspace, period: Period, top: int = TOP_CLIENTS
) -> ClientShares:
    """Collected revenue of the period per client: the top ``top`` and the rest."""
    return _client_shares(session, workspace, period, top)


def _collected_per_client(workspace, period: Period):
    """(client_id, collected) of the period, from the kept totals.

    Whole months come from the monthly totals; the days of a month the period
    only partly covers (custom periods) come from the payments themselves.
    """
    ws, currency = workspace.id, workspace.currency
    if period.start is None and period.end is None:
        return select(
            ClientRevenue.client_id.label("client_id"),
            ClientRevenue.collected_minor.label("collected"),
        ).where(
            ClientRevenue.workspace_id == ws,
            ClientRevenue.currency == currency,
            ClientRevenue.collected_minor != 0,
        )

    whole_from = period.start
    if whole_from is not None and whole_from.day != 1:
        whole_from = add_months(first_of_month(whole_from), 1)
    whole_to = first_of_month(period.end) if period.end is not None else None
    parts, partial = [], [(period.start, period.end)]
    if whole_from is None or whole_to is None or whole_from < whole_to:
        parts.append(
            select(
                ClientRevenueMonth.client_id.label("client_id"),
                ClientRevenueMonth.collected_minor.label("collected"),
            ).where(
                ClientRevenueMonth.workspace_id == ws,
                ClientRevenueMonth.currency == currency,
                _within(ClientRevenueMonth.month, whole_from, whole_to),
            )
        )
        partial = [(period.start, whole_from), (whole_to, period.end)]
    for first, end in partial:
        if first is None or end is None or first >= end:
            continue
        parts.append(
            select(
                Invoice.client_id.label("client_id"),
                Payment.amount_minor.label("collected"),
            )
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .where(
                Payment.workspace_id == ws,
                _within(Payment.paid_on, first, end),
                Invoice.workspace_id == ws,
                Invoice.state == InvoiceState.ISSUED.value,
                Invoice.currency == currency,
            )
        )
    rows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    return (
        select(rows.c.client_id, func.sum(rows.c.collected).label("collected"))
        .group_by(rows.c.client_id)
        .having(func.sum(rows.c.collected) != 0)
    )


def _client_shares(
    session: Session, workspace, period: Period, top: int
) -> ClientShares:
    per_client = _collected_per_client(workspace, period).subquery()
    ranked = select(
        per_client.c.client_id,
        per_client.c.collected,
        func.sum(per_client.c.collected).over().label("total"),
        func.count().over().label("clients"),
    ).subquery()
    statement = (
        select(
            ranked.c.client_id,
            Client.name,
            ranked.c.collected,
            ranked.c.total,
            ranked.c.clients,
        )
        .join(Client, Client.id == ranked.c.client_id)
        .order_by(ranked.c.collected.desc(), Client.name, ranked.c.client_id)
        .limit(top)
    )

    rows = session.execute(statement).all()

    total = _int(rows[0].total) if rows else 0
    clients = [
        ClientShare(
            row.client_id, row.name, _int(row.collected), _share(row.collected, total)
        )
        for row in rows
    ]
    others = total - sum(c.collected_minor for c in clients)
    return ClientShares(
        clients=clients,
        others_count=(_int(rows[0].clients) - len(rows)) if rows else 0,
        others_minor=others,
        others_share=_share(others, total),
        total_minor=total,
    )


def dashboard(
    session: Session, workspace, period: Period, today: date | None = None
) -> Dashboard:
    """Every figure of the landing page, in three statements."""
    today = today or today_in(workspace)
    start, end = twelve_months(today)
    last_january = date(today.year - 1, 1, 1)

    invoiced, collected = _monthly_sums(
        session, workspace, min(start, last_january), end
    )

    return Dashboard(
        today=today,
        period=period,
        cards=_cards(session, workspace, period, today),
        months=_monthly_revenue(invoiced, collected, start, end),
        comparison=_comparison(collected, today),
        shares=_client_shares(session, workspace, period, TOP_CLIENTS),
    )
