"""Small factories for the recurrence, reminder, hour pack and crypto tests.

Invoices are written straight through the models so that these tests depend
on the tables only; templates and schedules go through ``recurrence``.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal

from clientflow_plugin.models import (
    Client,
    HourPack,
    Invoice,
    InvoiceLine,
    InvoiceTemplate,
    Payment,
    TemplateLine,
)
from host_stub.extensions import db
from tests.conftest import make_app

_numbers = itertools.count(1)


def make_client(workspace, **fields) -> Client:
    fields.setdefault("name", "Lumen Studio")
    fields.setdefault("email", "billing@lumen.example")
    client = Client(workspace_id=workspace.id, **fields)
    db.session.add(client)
    db.session.commit()
    return client


def make_invoice(
    workspace,
    client,
    *,
    state: str = "issued",
    due_date: date = date(2027, 3, 1),
    total_minor: int = 12100,
    paid_minor: int = 0,
    hours: Decimal | None = None,
    hour_pack: HourPack | None = None,
    notes: str | None = None,
    reference: str | None = None,
) -> Invoice:
    """One invoice of one line; ``hours`` makes it an hours line of ``hour_pack``."""
    invoice = Invoice(
        workspace_id=workspace.id,
        client_id=client.id,
        state=state,
        currency=workspace.currency,
        issue_date=date(2027, 1, 30) if state != "draft" else None,
        due_date=due_date,
        subtotal_minor=total_minor,
        total_minor=total_minor,
        notes=notes,
    )
    if state != "draft":
        invoice.number = f"2027-{next(_numbers):04d}"
        invoice.issued_at = datetime(2027, 1, 30, 10, tzinfo=UTC)
    invoice.lines = [
        InvoiceLine(
            position=0,
            kind="hours" if hours is not None else "service",
            description="Support hours" if hours is not None else "Retainer",
            quantity=hours if hours is not None else Decimal(1),
            unit_price_minor=total_minor,
            net_minor=total_minor,
            hour_pack_id=hour_pack.id if hour_pack is not None else None,
        )
    ]
    db.session.add(invoice)
    db.session.flush()
    if paid_minor:
        db.session.add(
            Payment(
                workspace_id=workspace.id,
                invoice_id=invoice.id,
                paid_on=date(2027, 2, 1),
                amount_minor=paid_minor,
                reference=reference,
            )
        )
    db.session.commit()
    return invoice


def make_template(
    workspace,
    client=None,
    *,
    anchor: date | None = date(2027, 1, 31),
    on_run: str = "draft",
    kind: str = "retainer",
    frequency: str = "monthly",
    end_date: date | None = None,
    price_minor: int = 150000,
    hours_in_pack: Decimal | None = None,
    name: str = "Monthly retainer",
) -> InvoiceTemplate:
    template = InvoiceTemplate(
        workspace_id=workspace.id,
        name=name,
        kind=kind,
        client_id=client.id if client is not None else None,
        terms="Payment by bank transfer.",
        due_days=15,
        frequency=frequency,
        anchor_date=anchor,
        end_date=end_date,
        on_run=on_run,
        hours_in_pack=hours_in_pack,
    )
    template.lines = [
        TemplateLine(
            position=0,
            kind="hours" if kind == "hour_pack" else "service",
            description="Standard services {period}",
            quantity=hours_in_pack or Decimal(1),
            unit_price_minor=price_minor,
        )
    ]
    db.session.add(template)
    db.session.commit()
    return template


def make_pack(workspace, client, *, hours="20", warn_below="5", **fields):
    pack = HourPack(
        workspace_id=workspace.id,
        client_id=client.id,
        hours_bought=Decimal(hours),
        warn_below_hours=Decimal(warn_below),
        **fields,
    )
    db.session.add(pack)
    db.session.commit()
    return pack


@contextmanager
def app_with_keys(database_url: str, instance_path: str, keys: str, **config):
    """Another app on the same database with other encryption keys."""
    other = make_app(
        database_url, instance_path, CLIENTFLOW_ENCRYPTION_KEYS=keys, **config
    )
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def plugin_error(app) -> str | None:
    """Why ClientFlow failed to start in ``app``; None when it started."""
    return app.extensions["workspace_plugins"].records["clientflow"].error


def at(year, month, day, hour=12, minute=0) -> datetime:
    """A moment in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)
