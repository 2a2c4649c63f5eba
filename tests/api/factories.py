"""Rows of one workspace for the API, export and sweep tests.

Clients, projects and opportunities are plain rows; invoices go through the
billing domain, so their totals, numbers and statuses are the real ones.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from clientflow_plugin import invoices
from clientflow_plugin.models import Client, Opportunity, Project, TaxRate
from host_stub.extensions import db


def make_client(workspace, **fields) -> Client:
    fields.setdefault("name", "Lumen Studio")
    fields.setdefault("company", "Lumen Studio S.L.")
    fields.setdefault("email", "billing@lumen.example")
    client = Client(workspace_id=workspace.id, **fields)
    db.session.add(client)
    db.session.commit()
    return client


def make_project(client, name: str = "Website relaunch", **fields) -> Project:
    project = Project(
        workspace_id=client.workspace_id, client_id=client.id, name=name, **fields
    )
    db.session.add(project)
    db.session.commit()
    return project


def make_rate(workspace, percent: str, name: str | None = None) -> TaxRate:
    rate = TaxRate(
        workspace_id=workspace.id, name=name or f"Tax {percent}%", rate=Decimal(percent)
    )
    db.session.add(rate)
    db.session.commit()
    return rate


def make_invoice(
    workspace,
    client,
    *,
    lines: list[tuple[str, int, list[TaxRate]]] | None = None,
    discount_minor: int = 0,
    issue: bool = True,
    issue_date: date | None = None,
    due_date: date | None = None,
    paid_minor: int = 0,
    actor_id: int | None = None,
):
    """An invoice through the billing domain: (quantity, unit price, rates) lines."""
    lines = lines or [("3", 4500, [])]
    draft = invoices.create_draft(
        workspace,
        client,
        lines=[
            invoices.LineData(
                description=f"Line {n}",
                quantity=Decimal(quantity),
                unit_price_minor=price,
                tax_rate_ids=[rate.id for rate in rates],
            )
            for n, (quantity, price, rates) in enumerate(lines, start=1)
        ],
        discount_minor=discount_minor,
        issue_date=issue_date,
        due_date=due_date,
        actor_id=actor_id,
    )
    if issue:
        invoices.issue(draft, actor_id=actor_id)
    if paid_minor:
        invoices.record_payment(
            draft,
            amount_minor=paid_minor,
            paid_on=draft.issue_date,
            method="transfer",
            actor_id=actor_id,
        )
    db.session.commit()
    return draft


def make_opportunity(workspace, **fields) -> Opportunity:
    fields.setdefault("title", "New website")
    fields.setdefault("prospect_name", "Ana Prospect")
    fields.setdefault("value_minor", 500000)
    fields.setdefault("probability", 40)
    fields.setdefault("stage", "qualified")
    opportunity = Opportunity(workspace_id=workspace.id, **fields)
    db.session.add(opportunity)
    db.session.commit()
    return opportunity


def tax_rates_of(workspace) -> list[TaxRate]:
    return list(
        db.session.scalars(select(TaxRate).where(TaxRate.workspace_id == workspace.id))
    )
