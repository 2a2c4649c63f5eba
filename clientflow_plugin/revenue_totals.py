"""The revenue totals the database keeps, checked against the books.

Triggers (migration ``cf_0005_revenue_totals``) keep three tables of sums as
invoices and payments change: per day (:class:`RevenueDay`), per client and
month (:class:`ClientRevenueMonth`) and per client (:class:`ClientRevenue`).
This module recomputes the same sums from the invoices and payments
themselves, to find any difference (a trigger lost by a careless migration,
rows written with triggers switched off) and to rebuild the tables.
``flask clientflow check-totals`` runs it.
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

AMOUNTS = ("invoiced_minor", "collected_minor", "issued_count")


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
    """Each issued invoice and each payment on one, as the triggers count them."""
    issued = Invoice.state == InvoiceState.ISSUED.value
    invoices = select(
        Invoice.workspace_id.label("workspace_id"),
        Invoice.currency.label("currency"),
        Invoice.client_id.label("client_id"),
        Invoice.issue_date.label("day"),
        Invoice.total_minor.label("invoiced"),
        literal(0).label("collected"),
        literal(1).label("issued"),
    ).where(issued)
    payments = (
        select(
            Invoice.workspace_id,
            Invoice.currency,
            Invoice.client_id,
            Payment.paid_on,
            literal(0),
            Payment.amount_minor,
            literal(0),
        )
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(issued)
    )
    if workspace_id is not None:
        invoices = invoices.where(Invoice.workspace_id == workspace_id)
        payments = payments.where(Invoice.workspace_id == workspace_id)
    return union_all(invoices, payments).subquery("contributions")


def _sums(c):
    return (
        func.sum(c.c.invoiced).label("invoiced_minor"),
        func.sum(c.c.collected).label("collected_minor"),
        func.sum(c.c.issued).label("issued_count"),
    )


def _expected_statements(workspace_id: int | None):
    """(model, key columns, select of the expected rows) for each table."""
    c = _contributions(workspace_id)
    month = month_start(c.c.day)
    return [
        (
            RevenueDay,
            ("workspace_id", "currency", "day"),
            select(c.c.workspace_id, c.c.currency, c.c.day, *_sums(c)).group_by(
                c.c.workspace_id, c.c.currency, c.c.day
            ),
        ),
        (
            ClientRevenueMonth,
            ("workspace_id", "currency", "month", "client_id"),
            select(
                c.c.workspace_id,
                c.c.currency,
                month.label("month"),
                c.c.client_id,
                *_sums(c),
            ).group_by(c.c.workspace_id, c.c.currency, month, c.c.client_id),
        ),
        (
            ClientRevenue,
            ("workspace_id", "currency", "client_id"),
            select(c.c.workspace_id, c.c.currency, c.c.client_id, *_sums(c)).group_by(
                c.c.workspace_id, c.c.currency, c.c.client_id
            ),
        ),
    ]


@dataclass(frozen=True)
class Difference:
    table: str
    key: tuple
    stored: tuple[int, int, int]
    expected: tuple[int, int, int]


def _as_amounts(row) -> tuple[int, int, int]:
    return tuple(int(getattr(row, name) or 0) for name in AMOUNTS)


def differences(session: Session, workspace_id: int | None = None) -> list[Difference]:
    """Rows of the kept tables that disagree with the books; rows that add up
    to nothing count as absent."""
    found = []
    for model, keys, expected_select in _expected_statements(workspace_id):
        columns = [getattr(model, k) for k in keys]
        stored_select = select(*columns, *(getattr(model, a) for a in AMOUNTS))
        if workspace_id is not None:
            stored_select = stored_select.where(model.workspace_id == workspace_id)
        stored = _by_key(session.execute(stored_select), len(keys))
        expected = _by_key(session.execute(expected_select), len(keys))
        for key in sorted(set(stored) | set(expected), key=repr):
            have, want = stored.get(key, (0, 0, 0)), expected.get(key, (0, 0, 0))
            if have != want:
                found.append(Difference(model.__tablename__, key, have, want))
    return found


def _by_key(rows: Iterable, width: int) -> dict[tuple, tuple[int, int, int]]:
    kept = {}
    for row in rows:
        amounts = _as_amounts(row)
        if amounts != (0, 0, 0):
            kept[tuple(str(v) for v in row[:width])] = amounts
    return kept


def rebuild(session: Session, workspace_id: int | None = None) -> int:
    """Recompute the kept tables from the books, in the caller's transaction.

    Returns the number of rows written. The invoice and payment tables are
    read as they stand in this transaction; run it while nobody writes, or on
    PostgreSQL in a transaction that locks them first (``--repair`` does).
    """
    written = 0
    for model, keys, expected_select in _expected_statements(workspace_id):
        removal = delete(model)
        if workspace_id is not None:
            removal = removal.where(model.workspace_id == workspace_id)
        session.execute(removal)
        result = session.execute(
            insert(model).from_select([*keys, *AMOUNTS], expected_select)
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
