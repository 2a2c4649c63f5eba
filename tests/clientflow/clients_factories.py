"""Small builders for the clients tests; each commits what it makes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from clientflow_plugin.models import (
    Client,
    Interaction,
    Invoice,
    Opportunity,
    Payment,
    Project,
)
from host_stub.extensions import db


def add_client(workspace, name: str = "Lucía Fernández", **fields) -> Client:
    fields.setdefault("company", "Panadería La Espiga")
    fields.setdefault("email", "lucia@laespiga.example")
    client = Client(workspace_id=workspace.id, name=name, **fields)
    db.session.add(client)
    db.session.commit()
    return client


def add_project(client, name: str = "Web shop", status: str = "active") -> Project:
    project = Project(
        workspace_id=client.workspace_id, client_id=client.id, name=name, status=status
    )
    db.session.add(project)
    db.session.commit()
    return project


def add_invoice(
    client,
    total_minor: int,
    state: str = "issued",
    *,
    currency: str = "EUR",
    number: str | None = None,
    issue_date: date | None = None,
) -> Invoice:
    issued = state != "draft"
    invoice = Invoice(
        workspace_id=client.workspace_id,
        client_id=client.id,
        state=state,
        currency=currency,
        total_minor=total_minor,
        subtotal_minor=total_minor,
        number=number if issued else None,
        issue_date=(issue_date or date(2026, 1, 15)) if issued else None,
        due_date=date(2026, 2, 14) if issued else None,
    )
    db.session.add(invoice)
    db.session.commit()
    return invoice


def add_payment(invoice, amount_minor: int) -> Payment:
    payment = Payment(
        workspace_id=invoice.workspace_id,
        invoice_id=invoice.id,
        amount_minor=amount_minor,
        paid_on=date(2026, 2, 1),
    )
    db.session.add(payment)
    db.session.commit()
    return payment


def add_interaction(
    client, occurred_at: datetime, kind: str = "call", summary: str = "Catch-up"
) -> Interaction:
    interaction = Interaction(
        workspace_id=client.workspace_id,
        client_id=client.id,
        kind=kind,
        occurred_at=occurred_at,
        summary=summary,
    )
    db.session.add(interaction)
    db.session.commit()
    return interaction


def add_opportunity(client, title: str = "Rebranding", **fields) -> Opportunity:
    opportunity = Opportunity(
        workspace_id=client.workspace_id, client_id=client.id, title=title, **fields
    )
    db.session.add(opportunity)
    db.session.commit()
    return opportunity


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


_invoice_numbers = itertools.count(1)


def add_many_clients(workspace, count: int) -> None:
    """``count`` clients, each with a project, an invoice and an interaction."""
    clients = [
        Client(workspace_id=workspace.id, name=f"Client {n:04d}", company=f"Co {n}")
        for n in range(count)
    ]
    db.session.add_all(clients)
    db.session.flush()
    for n, client in enumerate(clients):
        db.session.add_all(
            [
                Project(workspace_id=workspace.id, client_id=client.id, name=f"P{n}"),
                Invoice(
                    workspace_id=workspace.id,
                    client_id=client.id,
                    state="issued",
                    currency="EUR",
                    number=f"M-{next(_invoice_numbers):06d}",
                    issue_date=date(2026, 1, 15),
                    total_minor=1000 + n,
                ),
                Interaction(
                    workspace_id=workspace.id,
                    client_id=client.id,
                    kind="note",
                    occurred_at=utc(2026, 1, 1 + n % 28),
                    summary="Note",
                ),
            ]
        )
    db.session.commit()
