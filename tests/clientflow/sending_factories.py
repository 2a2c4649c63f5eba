"""Small factories for the sending, portal and PDF tests.

Invoices are made through the billing domain (``clientflow_plugin.invoices``)
as the owner would: one line of 3 hours × 45.00 at 21 % gives 135.00 + 28.35
= 163.35. Numbers come from the workspace's sequence, so tests read
``invoice.number`` rather than expecting a fixed one.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from clientflow_plugin import clock, invoices
from clientflow_plugin.models import Client, Invoice, Project, TaxRate
from host_stub.extensions import db


def make_client(workspace, **fields) -> Client:
    fields.setdefault("name", "Lumen Studio")
    fields.setdefault("company", "Lumen Studio S.L.")
    fields.setdefault("email", "billing@lumen.example")
    client = Client(workspace_id=workspace.id, **fields)
    db.session.add(client)
    db.session.commit()
    return client


def make_project(client, name="Website relaunch", **fields) -> Project:
    project = Project(
        workspace_id=client.workspace_id, client_id=client.id, name=name, **fields
    )
    db.session.add(project)
    db.session.commit()
    return project


def tax_rate(workspace, name="IVA 21%", rate="21") -> TaxRate:
    """The workspace's rate called ``name``, made when it does not exist yet."""
    found = db.session.scalar(
        select(TaxRate).where(
            TaxRate.workspace_id == workspace.id, TaxRate.name == name
        )
    )
    if found is None:
        found = TaxRate(workspace_id=workspace.id, name=name, rate=Decimal(rate))
        db.session.add(found)
        db.session.flush()
    return found


def make_invoice(
    workspace,
    client,
    *,
    state: str = "issued",
    description: str = "Design work",
    issue_date: date | None = None,
    due_date: date | None = None,
    paid_minor: int = 0,
) -> Invoice:
    """An invoice of one line, 3 × 45.00 with 21 % tax: total 163.35."""
    today = clock.today_in(workspace)
    issue_date = issue_date or today - timedelta(days=2)
    line = invoices.LineData(
        kind="hours",
        description=description,
        quantity=Decimal("3"),
        unit_price_minor=4500,
        tax_rate_ids=[tax_rate(workspace).id],
    )
    invoice = invoices.create_draft(
        workspace,
        client,
        lines=[line],
        terms="Payment by bank transfer within 30 days.",
        issue_date=issue_date,
        due_date=due_date or issue_date + timedelta(days=30),
    )
    if state != "draft":
        invoices.issue(invoice, actor_id=None, today=today)
    if paid_minor:
        invoices.record_payment(
            invoice, amount_minor=paid_minor, paid_on=issue_date, today=today
        )
    if state == "void":
        invoices.void(invoice, reason="Issued by mistake", actor_id=None)
    db.session.commit()
    return invoice
