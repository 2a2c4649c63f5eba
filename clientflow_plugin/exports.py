"""CSV exports of clients, invoices and opportunities.

The files are meant for spreadsheet apps, so they are written defensively:

- a text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return is prefixed with an apostrophe, so that no app runs it as a formula;
- numbers stay numbers: amounts are plain decimals in the currency's major
  unit ("1234.56", "-60.00"), never prefixed;
- UTF-8 with a byte-order mark, which spreadsheet apps need to read accents;
- rows are read with one query per file, in server-side batches, and written
  as they come, so a large workspace never sits whole in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .invoices import balance_expr, status_expr
from .models import Client, Invoice, LostReason, Opportunity
from .money import from_minor
from .pipeline import weighted_minor

#: First characters that make a spreadsheet app read a cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

#: Rows fetched from the database per round trip, and written per chunk.
BATCH_SIZE = 500

#: Put in front of every file so that spreadsheet apps read it as UTF-8.
BOM = "\ufeff"


class Amount:
    """An amount of money in minor units, written as a plain decimal."""

    __slots__ = ("minor", "currency")

    def __init__(self, minor: int | None, currency: str) -> None:
        self.minor = minor
        self.currency = currency

    def __str__(self) -> str:
        if self.minor is None:
            return ""
        return str(from_minor(self.minor, self.currency))


def text_cell(value: str) -> str:
    """A text value made inert: an apostrophe before a formula's first character."""
    if value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def cell(value) -> str:
    """One value as written to the file; only text is ever escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal | Amount):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return text_cell(str(value))


def write_csv(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """The file as chunks of text: the mark, the header, then rows in batches."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([text_cell(name) for name in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([cell(value) for value in row])
        if count % BATCH_SIZE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _stream(session: Session, statement: Select) -> Iterator:
    """Rows of ``statement`` fetched in batches (a server-side cursor on PostgreSQL)."""
    yield from session.execute(statement.execution_options(yield_per=BATCH_SIZE))


CLIENT_HEADER = (
    "id",
    "name",
    "company",
    "email",
    "phone",
    "website",
    "address",
    "region",
    "status",
    "archived",
    "tax_id",
    "billing_address",
    "created_at",
)


def clients_csv(session: Session, workspace_id: int) -> Iterator[str]:
    """Every client of the workspace, archived ones included, by name."""
    statement = (
        select(
            Client.id,
            Client.name,
            Client.company,
            Client.email,
            Client.phone,
            Client.website,
            Client.address,
            Client.region,
            Client.status,
            Client.archived,
            Client.tax_id,
            Client.billing_address,
            Client.created_at,
        )
        .where(Client.workspace_id == workspace_id)
        .order_by(Client.name, Client.id)
    )
    return write_csv(CLIENT_HEADER, (tuple(row) for row in _stream(session, statement)))


INVOICE_HEADER = (
    "id",
    "number",
    "status",
    "client_id",
    "client",
    "issue_date",
    "due_date",
    "currency",
    "subtotal",
    "discount",
    "tax",
    "total",
    "paid",
    "balance",
    "created_at",
)


def invoices_csv(session: Session, workspace_id: int, today: date) -> Iterator[str]:
    """Every invoice of the workspace with its status and balance on ``today``."""
    statement = (
        select(
            Invoice.id,
            Invoice.number,
            status_expr(today).label("status"),
            Invoice.client_id,
            Client.name,
            Invoice.issue_date,
            Invoice.due_date,
            Invoice.currency,
            Invoice.subtotal_minor,
            Invoice.discount_minor,
            Invoice.tax_minor,
            Invoice.total_minor,
            Invoice.paid_minor,
            balance_expr().label("balance_minor"),
            Invoice.created_at,
        )
        .join(Client, Client.id == Invoice.client_id)
        .where(Invoice.workspace_id == workspace_id)
        .order_by(Invoice.issue_date.is_(None), Invoice.issue_date, Invoice.id)
    )

    def rows() -> Iterator[tuple]:
        for row in _stream(session, statement):
            currency = row.currency
            yield (
                row.id,
                row.number,
                row.status,
                row.client_id,
                row.name,
                row.issue_date,
                row.due_date,
                currency,
                Amount(row.subtotal_minor, currency),
                Amount(row.discount_minor, currency),
                Amount(row.tax_minor, currency),
                Amount(row.total_minor, currency),
                Amount(row.paid_minor, currency),
                Amount(row.balance_minor, currency),
                row.created_at,
            )

    return write_csv(INVOICE_HEADER, rows())


OPPORTUNITY_HEADER = (
    "id",
    "title",
    "client_id",
    "client",
    "prospect_name",
    "prospect_company",
    "stage",
    "currency",
    "value",
    "probability",
    "weighted_value",
    "next_follow_up",
    "next_step",
    "proposal_url",
    "proposal_sent_on",
    "lost_reason",
    "lost_note",
    "created_at",
    "closed_on",
)


def opportunities_csv(
    session: Session, workspace_id: int, currency: str
) -> Iterator[str]:
    """Every opportunity of the workspace, open and closed, by stage and place."""
    statement = (
        select(
            Opportunity.id,
            Opportunity.title,
            Opportunity.client_id,
            Client.name.label("client_name"),
            Opportunity.prospect_name,
            Opportunity.prospect_company,
            Opportunity.stage,
            Opportunity.value_minor,
            Opportunity.probability,
            Opportunity.next_follow_up,
            Opportunity.next_step,
            Opportunity.proposal_url,
            Opportunity.proposal_sent_on,
            LostReason.label,
            Opportunity.lost_note,
            Opportunity.created_at,
            Opportunity.closed_on,
        )
        .outerjoin(Client, Client.id == Opportunity.client_id)
        .outerjoin(LostReason, LostReason.id == Opportunity.lost_reason_id)
        .where(Opportunity.workspace_id == workspace_id)
        .order_by(Opportunity.created_at, Opportunity.id)
    )

    def rows() -> Iterator[tuple]:
        for row in _stream(session, statement):
            yield (
                row.id,
                row.title,
                row.client_id,
                row.client_name,
                row.prospect_name,
                row.prospect_company,
                row.stage,
                currency,
                Amount(row.value_minor, currency),
                row.probability,
                Amount(weighted_minor(row.value_minor, row.probability), currency),
                row.next_follow_up,
                row.next_step,
                row.proposal_url,
                row.proposal_sent_on,
                row.label,
                row.lost_note,
                row.created_at,
                row.closed_on,
            )

    return write_csv(OPPORTUNITY_HEADER, rows())
