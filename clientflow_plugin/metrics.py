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

Two identities keep the large sums to one index range each, without joining
every payment to its invoice:

- payments on issued invoices = all of the workspace's payments − payments on
  drafts and voided invoices (a few, reached from those invoices);
- the overdue part = totals of issued invoices due before today − (payments
  on issued invoices − payments on those not yet due, a recent few).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from sqlalchemy import (
    String,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from .clock import add_months, today_in
from .models import (
    OPEN_STAGES,
    Client,
    Invoice,
    InvoiceState,
    Opportunity,
    Payment,
    Project,
    ProjectStatus,
)

#: Clients named in the revenue share; the rest are added up as "others".
TOP_CLIENTS = 5

#: States whose payments are not revenue: every state but issued, listed so
#: that the lookup is an index range rather than a scan.
NOT_ISSUED = tuple(s.value for s in InvoiceState if s != InvoiceState.ISSUED)

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
    return Period(period_key, start, last_day + timedelta(days=1))


class month_key(FunctionElement):  # noqa: N801  (reads as a SQL function)
    """The ``YYYY-MM`` text of a date column, written for each database."""

    type = String()
    inherit_cache = True


@compiles(month_key, "sqlite")
def _month_key_sqlite(element, compiler, **kw) -> str:
    # SQLite keeps dates as ISO text, so the month is its first seven characters.
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 7)"


@compiles(month_key)
def _month_key_default(element, compiler, **kw) -> str:
    # A timestamp without time zone, so the session's zone cannot move the day.
    column = compiler.process(element.clauses, **kw)
    return f"to_char(CAST({column} AS timestamp), 'YYYY-MM')"


def _month_of(key: str) -> tuple[int, int]:
    year, month = key.split("-")
    return int(year), int(month)


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


def _payments_not_revenue(workspace_id: int):
    """Payments of the workspace recorded on drafts or voided invoices.

    Scoped through the invoice alone: a filter on the payment's own workspace
    would let SQLite start from every payment instead of from these invoices.
    """
    return (
        select(Payment.paid_on, Payment.amount_minor)
        .select_from(Invoice)
        .join(Payment, Payment.invoice_id == Invoice.id)
        .where(
            Invoice.workspace_id == workspace_id,
            Invoice.state.in_(NOT_ISSUED),
        )
        .subquery()
    )


def _int(value) -> int:
    # PostgreSQL adds bigints up as numeric; the figures are whole minor units.
    return int(value or 0)


def _plan_with_values(session: Session) -> None:
    """Have PostgreSQL plan this transaction's statements for their values.

    psycopg prepares a statement it has run five times, and PostgreSQL may
    then keep one generic plan for every workspace and every range of dates;
    for these sums such a plan took twice as long as one made for the values
    at hand (scripts/bench.py, 200,000 invoices).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


# -- the figures -------------------------------------------------------------


def cards(
    session: Session, workspace, period: Period, today: date | None = None
) -> Cards:
    """The four cards, in one statement."""
    _plan_with_values(session)
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
    in_period = _within(Payment.paid_on, period.start, period.end)
    paid = select(
        _total(Payment.amount_minor).label("paid_all"),
        _total(case((in_period, Payment.amount_minor), else_=0)).label("paid_period"),
    ).where(Payment.workspace_id == ws)
    excluded = _payments_not_revenue(ws)
    in_period_excluded = _within(excluded.c.paid_on, period.start, period.end)
    not_revenue = select(
        _total(excluded.c.amount_minor).label("excluded_all"),
        _total(case((in_period_excluded, excluded.c.amount_minor), else_=0)).label(
            "excluded_period"
        ),
    )
    issued = Invoice.state == InvoiceState.ISSUED.value
    overdue_total = select(_total(Invoice.total_minor).label("overdue_total")).where(
        Invoice.workspace_id == ws, issued, Invoice.due_date < today
    )
    not_due = or_(Invoice.due_date >= today, Invoice.due_date.is_(None))
    not_due_total = select(_total(Invoice.total_minor).label("not_due_total")).where(
        Invoice.workspace_id == ws, issued, not_due
    )
    not_due_paid = (
        select(_total(Payment.amount_minor).label("not_due_paid"))
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(Invoice.workspace_id == ws, issued, not_due, Payment.workspace_id == ws)
    )
    open_stages = [s.value for s in OPEN_STAGES]
    pipeline = select(
        func.count().label("open_count"),
        _total(Opportunity.value_minor).label("open_value"),
        _total(Opportunity.value_minor * Opportunity.probability).label("weighted"),
    ).where(Opportunity.workspace_id == ws, Opportunity.stage.in_(open_stages))

    row = session.execute(
        _one_row(
            active,
            paid,
            not_revenue,
            overdue_total,
            not_due_total,
            not_due_paid,
            pipeline,
        )
    ).one()

    collected = _int(row.paid_all) - _int(row.excluded_all)
    collected_in_period = _int(row.paid_period) - _int(row.excluded_period)
    issued_total = _int(row.overdue_total) + _int(row.not_due_total)
    paid_on_overdue = collected - _int(row.not_due_paid)
    weighted = (Decimal(_int(row.weighted)) / 100).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    return Cards(
        active_clients=_int(row.active_clients),
        revenue_minor=collected_in_period,
        pending_minor=issued_total - collected,
        overdue_minor=_int(row.overdue_total) - paid_on_overdue,
        open_opportunities=_int(row.open_count),
        open_value_minor=_int(row.open_value),
        weighted_value_minor=int(weighted),
    )


def _monthly_sums(
    session: Session,
    workspace_id: int,
    invoiced_from: date | None,
    collected_from: date | None,
    end: date,
) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """Invoiced and collected per month, in one statement; a ``None`` start skips.

    Each arm adds up per day, in the order of its index, and only the few
    hundred daily sums are grouped by month. The arm that takes back payments
    on drafts and voided invoices has no date filter, so that every database
    starts it from those few invoices rather than from the payments of the
    period; months outside the range are dropped here.
    """
    arms = []
    if invoiced_from is not None:
        arms.append(
            select(
                literal_column("'invoiced'").label("series"),
                Invoice.issue_date.label("day"),
                func.sum(Invoice.total_minor).label("amount"),
            )
            .where(
                Invoice.workspace_id == workspace_id,
                Invoice.state == InvoiceState.ISSUED.value,
                _within(Invoice.issue_date, invoiced_from, end),
            )
            .group_by(Invoice.issue_date)
        )
    if collected_from is not None:
        arms.append(
            select(
                literal_column("'collected'").label("series"),
                Payment.paid_on.label("day"),
                func.sum(Payment.amount_minor).label("amount"),
            )
            .where(
                Payment.workspace_id == workspace_id,
                _within(Payment.paid_on, collected_from, end),
            )
            .group_by(Payment.paid_on)
        )
        excluded = _payments_not_revenue(workspace_id)
        arms.append(
            select(
                literal_column("'collected'").label("series"),
                excluded.c.paid_on.label("day"),
                (-func.sum(excluded.c.amount_minor)).label("amount"),
            ).group_by(excluded.c.paid_on)
        )
    days = union_all(*arms).subquery()
    month = month_key(days.c.day)
    statement = select(days.c.series, month, func.sum(days.c.amount)).group_by(
        days.c.series, month
    )

    invoiced: dict[tuple[int, int], int] = {}
    collected: dict[tuple[int, int], int] = {}
    for series, key, amount in session.execute(statement):
        target = invoiced if series == "invoiced" else collected
        target[_month_of(key)] = _int(amount)
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
    _plan_with_values(session)
    today = today or today_in(workspace)
    start, end = twelve_months(today)
    invoiced, collected = _monthly_sums(session, workspace.id, start, start, end)
    return _monthly_revenue(invoiced, collected, start, end)


def year_comparison(
    session: Session, workspace, today: date | None = None
) -> YearComparison:
    """Collected revenue of this year beside last year's, month by month."""
    _plan_with_values(session)
    today = today or today_in(workspace)
    start = date(today.year - 1, 1, 1)
    end = add_months(first_of_month(today), 1)
    _, collected = _monthly_sums(session, workspace.id, None, start, end)
    return _comparison(collected, today)


def _share(part: int, total: int) -> Decimal:
    if total == 0:
        return Decimal(0)
    return (Decimal(part) * 100 / total).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def client_shares(
    session: Session, workspace, period: Period, top: int = TOP_CLIENTS
) -> ClientShares:
    """Collected revenue of the period per client: the top ``top`` and the rest."""
    _plan_with_values(session)
    return _client_shares(session, workspace, period, top)


def _client_shares(
    session: Session, workspace, period: Period, top: int
) -> ClientShares:
    ws = workspace.id
    per_client = (
        select(
            Invoice.client_id.label("client_id"),
            func.sum(Payment.amount_minor).label("collected"),
        )
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(
            Payment.workspace_id == ws,
            Invoice.workspace_id == ws,
            Invoice.state == InvoiceState.ISSUED.value,
            # A lower bound even for all time: without one SQLite starts from
            # the invoices and reads each payment row, twice the work.
            _within(Payment.paid_on, period.start or date.min, period.end),
        )
        .group_by(Invoice.client_id)
        .subquery()
    )
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
    """Every figure of the landing page, in three statements (and the plan
    setting on PostgreSQL)."""
    _plan_with_values(session)
    today = today or today_in(workspace)
    start, end = twelve_months(today)
    last_january = date(today.year - 1, 1, 1)

    invoiced, collected = _monthly_sums(
        session, workspace.id, start, min(start, last_january), end
    )

    return Dashboard(
        today=today,
        period=period,
        cards=_cards(session, workspace, period, today),
        months=_monthly_revenue(invoiced, collected, start, end),
        comparison=_comparison(collected, today),
        shares=_client_shares(session, workspace, period, TOP_CLIENTS),
    )
