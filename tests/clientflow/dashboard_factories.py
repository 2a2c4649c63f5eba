"""Builders of the books the dashboard reads: clients, invoices, payments, deals.

Rows are written straight into the tables, as the billing and pipeline code
leaves them, so the dashboard's tests do not depend on how those areas
create them. Amounts are given in minor units.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import sqlalchemy as sa

from clientflow_plugin.models import (
    Client,
    Invoice,
    Opportunity,
    Payment,
    Project,
)
from host_stub.extensions import db

_numbers = itertools.count(1)


class Books:
    """One workspace's records, added one by one and committed at once."""

    def __init__(self, workspace) -> None:
        self.workspace = workspace

    def client(
        self,
        name: str = "Lucía Fernández",
        *,
        archived: bool = False,
        projects: tuple[str, ...] = ("active",),
    ) -> Client:
        """A client with one project per status in ``projects``."""
        client = Client(workspace_id=self.workspace.id, name=name, archived=archived)
        db.session.add(client)
        db.session.flush()
        for n, status in enumerate(projects):
            db.session.add(
                Project(
                    workspace_id=self.workspace.id,
                    client_id=client.id,
                    name=f"Project {n + 1}",
                    status=status,
                )
            )
        db.session.commit()
        return client

    def invoice(
        self,
        client: Client,
        total_minor: int,
        issued: date,
        *,
        due: date | None = None,
        state: str = "issued",
    ) -> Invoice:
        """An invoice; drafts have no number and no dates."""
        draft = state == "draft"
        invoice = Invoice(
            workspace_id=self.workspace.id,
            client_id=client.id,
            state=state,
            currency=self.workspace.currency,
            number=None if draft else f"T-{next(_numbers):06d}",
            issue_date=None if draft else issued,
            due_date=None if draft else (due or issued + timedelta(days=30)),
            subtotal_minor=total_minor,
            total_minor=total_minor,
        )
        db.session.add(invoice)
        db.session.commit()
        return invoice

    def payment(self, invoice: Invoice, amount_minor: int, paid_on: date) -> Payment:
        payment = Payment(
            workspace_id=self.workspace.id,
            invoice_id=invoice.id,
            amount_minor=amount_minor,
            paid_on=paid_on,
        )
        db.session.add(payment)
        db.session.commit()
        return payment

    def paid_invoice(
        self, client: Client, total_minor: int, issued: date, paid_on: date
    ) -> Invoice:
        """An issued invoice settled by one payment."""
        invoice = self.invoice(client, total_minor, issued)
        self.payment(invoice, total_minor, paid_on)
        return invoice

    def opportunity(
        self, value_minor: int, probability: int, stage: str = "proposal"
    ) -> Opportunity:
        opportunity = Opportunity(
            workspace_id=self.workspace.id,
            title="Website",
            prospect_name="Prospect",
            value_minor=value_minor,
            probability=probability,
            stage=stage,
        )
        db.session.add(opportunity)
        db.session.commit()
        return opportunity

    def many_paid_invoices(self, client: Client, count: int, first: date) -> None:
        """``count`` invoices of 100.00, each paid, in two bulk statements."""
        invoices = sa.insert(Invoice.__table__)
        start = next(_numbers)
        rows = []
        for n in range(count):
            issued = first + timedelta(days=n % 700)
            rows.append(
                {
                    "workspace_id": self.workspace.id,
                    "client_id": client.id,
                    "state": "issued",
                    "number": f"B-{start}-{n:06d}",
                    "currency": self.workspace.currency,
                    "issue_date": issued,
                    "due_date": issued + timedelta(days=30),
                    "subtotal_minor": 10_000,
                    "total_minor": 10_000,
                }
            )
        db.session.execute(invoices, rows)
        ids = db.session.scalars(
            sa.select(Invoice.id)
            .where(
                Invoice.workspace_id == self.workspace.id,
                Invoice.number.like(f"B-{start}-%"),
            )
            .order_by(Invoice.id)
        ).all()
        db.session.execute(
            sa.insert(Payment.__table__),
            [
                {
                    "workspace_id": self.workspace.id,
                    "invoice_id": invoice_id,
                    "paid_on": first + timedelta(days=n % 700 + 3),
                    "amount_minor": 10_000,
                }
                for n, invoice_id in enumerate(ids)
            ],
        )
        db.session.commit()
