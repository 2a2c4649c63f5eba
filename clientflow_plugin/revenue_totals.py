"""The revenue totals the database keeps, checked against the books.

Triggers (migration ``cf_0005_revenue_totals``) keep three tables of sums as
invoices and payments change: per day (:class:`RevenueDay`), per client and
month (:class:`ClientRevenueMonth`) and per client (:class:`ClientRevenue`).
Migration ``cf_0006_invoice_paid`` adds each invoice's ``paid_minor``, kept
the same way from its payments. This module recomputes all of them from the
invoices and payments themselves, to find any difference (a trigger lost by
a careless migration, rows written with triggers switched off) and to
rebuild them. ``flask clientflow check-totals`` runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    Date,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from .models import (
    ClientRevenue,
    ClientRevenueMonth,
    Invoice,
    InvoiceState,
    Payment,
    RevenueDay,
)

logger = logging.getLogger(__name__)

CLIENT_SUMS = ("invoiced_minor", "collected_minor", "issued_count")
DAY_SUMS = (*CLIENT_SUMS, "due_minor", "due_paid_minor")


class month_start(FunctionElement):  # noqa: N801  (reads as a SQL function)
    """The first day of a date column's month, as a date, on each database."""

    type = Date()
    inherit_cache = True


@compiles(month_start, "sqlite")
def _month_start_sqlite(element, compiler, **kw) -> str:
    # SQLite keeps dates as ISO text, so the month's first day is a prefix.
    return f"(substr({compiler.process(element.clauses, **kw)}, 1, 8) || '01')"


@compiles(month_start)
def _month_start_default(element, compiler, **kw) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"CAST(date_trunc('month', {column}) AS date)"


def _contributions(workspace_id: int | None):
    """Each issued invoice and each payment on one, as the triggers count them:
    (workspace, currency, client, day, invoiced, collected, issued, due, due
    paid)."""
    issued = Invoice.state == InvoiceState.ISSUED.value
    has_due = Invoice.due_date.is_not(None)

    def row(day, invoiced=0, collected=0, count=0, due=0, due_paid=0):
        return (
            Invoice.workspace_id.label("workspace_id"),
            Invoice.currency.label("currency"),
            Invoice.client_id.label("client_id"),
            day.label("day"),
            *(
                (value if hasattr(value, "label") else literal(value)).label(name)
                for name, value in (
                    ("invoiced", invoiced),
                    ("collected", collected),
                    ("issued", count),
                    ("due", due),
                    ("due_paid", due_paid),
                )
            ),
        )

    def paid(day, **amounts):
        return (
            select(*row(day, **amounts))
            .select_from(Payment)
            .join(Invoice, Invoice.id == Payment.invoice_id)
        )

    parts = [
        select(*row(Invoice.issue_date, invoiced=Invoice.total_minor, count=1)).where(
            issued
        ),
        select(*row(Invoice.due_date, due=Invoice.total_minor)).where(issued, has_due),
        paid(Payment.paid_on, collected=Payment.amount_minor).where(issued),
        paid(Invoice.due_date, due_paid=Payment.amount_minor).where(issued, has_due),
    ]
    if workspace_id is not None:
        parts = [part.where(Invoice.workspace_id == workspace_id) for part in parts]
    return union_all(*parts).subquery("contributions")


def _sums(c, names=CLIENT_SUMS):
    sources = {
        "invoiced_minor": c.c.invoiced,
        "collected_minor": c.c.collected,
        "issued_count": c.c.issued,
        "due_minor": c.c.due,
        "due_paid_minor": c.c.due_paid,
    }
    return tuple(func.sum(sources[name]).label(name) for name in names)


def _expected_statements(workspace_id: int | None):
    """(model, key columns, sums, select of the expected rows) for each table."""
    c = _contributions(workspace_id)
    month = month_start(c.c.day)
    counted = (c.c.invoiced != 0) | (c.c.collected != 0) | (c.c.issued != 0)
    return [
        (
            RevenueDay,
            ("workspace_id", "currency", "day"),
            DAY_SUMS,
            select(
                c.c.workspace_id, c.c.currency, c.c.day, *_sums(c, DAY_SUMS)
            ).group_by(c.c.workspace_id, c.c.currency, c.c.day),
        ),
        (
            ClientRevenueMonth,
            ("workspace_id", "currency", "month", "client_id"),
            CLIENT_SUMS,
            select(
                c.c.workspace_id,
                c.c.currency,
                month.label("month"),
                c.c.client_id,
                *_sums(c),
            )
            .where(counted)
            .group_by(c.c.workspace_id, c.c.currency, month, c.c.client_id),
        ),
        (
            ClientRevenue,
            ("workspace_id", "currency", "client_id"),
            CLIENT_SUMS,
            select(c.c.workspace_id, c.c.currency, c.c.client_id, *_sums(c))
            .where(counted)
            .group_by(c.c.workspace_id, c.c.currency, c.c.client_id),
        ),
    ]


@dataclass(frozen=True)
class Difference:
    table: str
    key: tuple
    stored: tuple[int, ...]
    expected: tuple[int, ...]


def differences(session: Session, workspace_id: int | None = None) -> list[Difference]:
    """Kept rows and paid amounts that disagree with the books."""
    found = total_differences(session, workspace_id)
    for invoice_id, have, want in session.execute(_paid_mismatches(workspace_id)):
        found.append(
            Difference(
                "clientflow_invoices.paid_minor", (invoice_id,), (have,), (want,)
            )
        )
    return found


def total_differences(
    session: Session, workspace_id: int | None = None
) -> list[Difference]:
    """Rows of the three revenue tables that disagree with the books; rows
    that add up to nothing count as absent."""
    found = []
    for model, keys, sums, expected_select in _expected_statements(workspace_id):
        columns = [getattr(model, k) for k in (*keys, *sums)]
        stored_select = select(*columns)
        if workspace_id is not None:
            stored_select = stored_select.where(model.workspace_id == workspace_id)
        stored = _by_key(session.execute(stored_select), len(keys))
        expected = _by_key(session.execute(expected_select), len(keys))
        nothing = (0,) * len(sums)
        for key in sorted(set(stored) | set(expected), key=repr):
            have, want = stored.get(key, nothing), expected.get(key, nothing)
            if have != want:
                found.append(Difference(model.__tablename__, key, have, want))
    return found


def _paid_of_invoice():
    return (
        select(func.coalesce(func.sum(Payment.amount_minor), 0))
        .where(Payment.invoice_id == Invoice.id)
        .correlate(Invoice)
        .scalar_subquery()
    )


def _paid_mismatches(workspace_id: int | None):
    """(invoice id, kept paid, payments' sum) of invoices whose two differ."""
    paid = _paid_of_invoice()
    statement = (
        select(Invoice.id, Invoice.paid_minor, paid)
        .where(Invoice.paid_minor != paid)
        .order_by(Invoice.id)
    )
    if workspace_id is not None:
        statement = statement.where(Invoice.workspace_id == workspace_id)
    return statement


def _by_key(rows: Iterable, width: int) -> dict[tuple, tuple[int, ...]]:
    kept = {}
    for row in rows:
        amounts = tuple(int(value or 0) for value in row[width:])
        if any(amounts):
            kept[tuple(str(v) for v in row[:width])] = amounts
    return kept


def rebuild(session: Session, workspace_id: int | None = None) -> int:
    """Recompute the kept tables from the books, in the caller's transaction.

    Returns the number of rows written. The invoice and payment tables are
    read as they stand in this transaction; run it while nobody writes, or on
    PostgreSQL in a transaction that locks them first (``--repair`` does).
    """
    written = 0
    for model, keys, sums, expected_select in _expected_statements(workspace_id):
        removal = delete(model)
        if workspace_id is not None:
            removal = removal.where(model.workspace_id == workspace_id)
        session.execute(removal)
        result = session.execute(
            insert(model).from_select([*keys, *sums], expected_select)
        )
        written += max(result.rowcount or 0, 0)
    mismatched = _paid_mismatches(workspace_id).with_only_columns(Invoice.id)
    result = session.execute(
        update(Invoice)
        .where(Invoice.id.in_(mismatched.scalar_subquery()))
        .values(paid_minor=_paid_of_invoice())
        .execution_options(synchronize_session=False)
    )
    written += max(result.rowcount or 0, 0)
    logger.info(
        "revenue totals rebuilt for %s: %s rows",
        f"workspace {workspace_id}" if workspace_id is not None else "every workspace",
        written,
    )
    return written


def lock_books(session: Session) -> None:
    """Hold off writers of invoices and payments until the transaction ends.

    On SQLite the first write of :func:`rebuild` takes the database's write
    lock, which does the same.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "LOCK TABLE clientflow_invoices, clientflow_payments "
                "IN SHARE ROW EXCLUSIVE MODE"
            )
        )
