"""The demo invoices: two years of realistic billing, the same on every run."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from clientflow_plugin import clock
from clientflow_plugin import invoices as domain
from clientflow_plugin.demo_data import billing as demo_billing
from clientflow_plugin.models import Invoice, InvoiceTax, Payment
from host_stub.extensions import db
from tests.clientflow.billing_factories import new_client

CLIENTS = (
    ("Lucía Fernández", "ES"),
    ("Jorge Ramírez", "MX"),
    ("Ana Costa", "ES-CN"),
    ("Martín Sosa", "AR"),
    ("Sofía Navarro", "ES"),
    ("Carlos Méndez", "ES"),
    ("Camila Torres", "CO"),
)


def seeded(make_workspace, seed=7):
    workspace = make_workspace()
    for name, region in CLIENTS:
        new_client(workspace, name=name, region=region)
    demo_billing.seed(workspace, random.Random(seed))
    db.session.commit()
    return workspace


def summary(workspace):
    return db.session.execute(
        select(Invoice.number, Invoice.issue_date, Invoice.total_minor, Invoice.state)
        .where(Invoice.workspace_id == workspace.id)
        .order_by(Invoice.id)
    ).all()


def test_the_demo_is_the_same_for_the_same_seed(make_workspace):
    first, second = seeded(make_workspace), seeded(make_workspace)

    assert summary(first) == summary(second)


def test_the_demo_has_every_status(make_workspace):
    workspace = seeded(make_workspace)
    today = clock.today_in(workspace)

    status = domain.status_expr(today).label("status")
    counts = dict(
        db.session.execute(
            select(status, func.count())
            .where(Invoice.workspace_id == workspace.id)
            .group_by(status)
        ).all()
    )

    assert set(counts) == {"paid", "pending", "overdue", "draft", "void"}
    assert counts["paid"] > counts["pending"] + counts["overdue"]
    assert counts["void"] == 2


def test_the_demo_spans_two_years(make_workspace):
    workspace = seeded(make_workspace)
    today = clock.today_in(workspace)

    first = db.session.scalar(select(func.min(Invoice.issue_date)))

    assert 600 <= (today - first).days <= 740


def test_the_demo_has_partial_payments(make_workspace):
    seeded(make_workspace)

    partial = [
        invoice
        for invoice in db.session.scalars(select(Invoice))
        if invoice.payments and domain.balance_minor(invoice) > 0
    ]

    assert partial
    assert db.session.scalar(select(func.count(Payment.id))) > 50


def test_the_demo_bills_spanish_vat_withholding_and_mexican_vat(make_workspace):
    seeded(make_workspace)

    names = set(db.session.scalars(select(InvoiceTax.name)))

    assert {"IVA 21%", "IRPF -15%", "IGIC 7%", "IVA 16%"} <= names
