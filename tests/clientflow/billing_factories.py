"""Small factories of the billing tests: clients, rates and invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from clientflow_plugin import invoices
from clientflow_plugin.invoices import LineData
from clientflow_plugin.models import Client, TaxRate
from host_stub.extensions import db


def new_client(workspace, name: str = "Lucía Fernández", region: str = "ES") -> Client:
    client = Client(workspace_id=workspace.id, name=name, region=region)
    db.session.add(client)
    db.session.commit()
    return client


def rate_id(workspace, name: str) -> int:
    """The id of one of the workspace's default rates, e.g. "IVA 21%"."""
    return db.session.scalar(
        select(TaxRate.id).where(
            TaxRate.workspace_id == workspace.id, TaxRate.name == name
        )
    )


def line(
    price: str | int,
    quantity: str = "1",
    *,
    taxes: list[int] | None = None,
    discount: str = "0",
    description: str = "Web design",
    kind: str = "service",
) -> LineData:
    """A line whose price is in minor units (cents for EUR)."""
    return LineData(
        kind=kind,
        description=description,
        quantity=Decimal(quantity),
        unit_price_minor=int(price),
        discount_percent=Decimal(discount),
        tax_rate_ids=list(taxes or []),
    )


def issued_invoice(
    workspace,
    client,
    *lines: LineData,
    issued_on: date = date(2026, 3, 1),
    due_on: date | None = date(2026, 3, 31),
    discount_minor: int = 0,
):
    """An invoice issued on ``issued_on`` (default lines: one of 100.00)."""
    invoice = invoices.create_draft(
        workspace,
        client,
        lines=list(lines) or [line(10000)],
        discount_minor=discount_minor,
        issue_date=issued_on,
        due_date=due_on,
    )
    invoices.issue(invoice, actor_id=None, today=issued_on)
    db.session.commit()
    return invoice


#: The tables a refused billing change must leave exactly as they were.
BILLING_TABLES = (
    "clientflow_invoices",
    "clientflow_invoice_lines",
    "clientflow_invoice_line_taxes",
    "clientflow_invoice_taxes",
    "clientflow_payments",
    "clientflow_number_sequences",
    "clientflow_tax_rates",
    "clientflow_settings",
    "clientflow_audit_events",
    "clientflow_clients",
)


def snapshot() -> dict[str, list]:
    """Every row of the billing tables, to compare before and after a refusal."""
    db.session.expire_all()
    tables = db.metadata.tables
    result = {}
    for name in BILLING_TABLES:
        table = tables[name]
        rows = db.session.execute(table.select()).all()
        result[name] = sorted(tuple(map(repr, row)) for row in rows)
    return result
