"""The dashboard's sums against a plain per-invoice count, on generated books.

The figures take two shortcuts (payments on issued invoices as all payments
less those on drafts and voided invoices; the overdue part as what is left
once invoices not yet due are taken out). Here the benchmark's generator
fills the books at random, partial payments and paid voided invoices
included, and every figure is checked against the obvious join.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
import sqlalchemy as sa

from clientflow_plugin import metrics
from clientflow_plugin.models import Client, Invoice, Opportunity, Payment, Project
from host_stub.extensions import db
from host_stub.models import Workspace
from scripts import bench_data

TODAY = date(2026, 6, 15)
SCALE = bench_data.Scale(
    invoices=600, clients=30, opportunities=60, other_workspaces=2, years=3
)


@pytest.fixture
def agency(app) -> Workspace:
    workspace_id = bench_data.build(SCALE, TODAY, seed=7, quiet=True)
    return db.session.get(Workspace, workspace_id)


def invoices_with_paid(workspace_id: int) -> list:
    paid = (
        sa.select(Payment.invoice_id, sa.func.sum(Payment.amount_minor).label("paid"))
        .group_by(Payment.invoice_id)
        .subquery()
    )
    return db.session.execute(
        sa.select(
            Invoice.client_id,
            Invoice.state,
            Invoice.issue_date,
            Invoice.due_date,
            Invoice.total_minor,
            sa.func.coalesce(paid.c.paid, 0).label("paid"),
        )
        .outerjoin(paid, paid.c.invoice_id == Invoice.id)
        .where(Invoice.workspace_id == workspace_id)
    ).all()


def payments_on_issued(workspace_id: int) -> list:
    return db.session.execute(
        sa.select(Invoice.client_id, Payment.paid_on, Payment.amount_minor)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(Invoice.workspace_id == workspace_id, Invoice.state == "issued")
    ).all()


def test_generated_books_have_what_the_shortcuts_must_handle(agency):
    rows = invoices_with_paid(agency.id)

    assert any(r.state == "void" and r.paid for r in rows)
    assert any(r.state == "issued" and 0 < r.paid < r.total_minor for r in rows)
    assert any(r.state == "draft" for r in rows)


def test_cards_match_a_count_invoice_by_invoice(agency):
    issued = [r for r in invoices_with_paid(agency.id) if r.state == "issued"]
    open_deals = db.session.execute(
        sa.select(Opportunity.value_minor, Opportunity.probability).where(
            Opportunity.workspace_id == agency.id,
            Opportunity.stage.in_(["prospect", "qualified", "proposal", "negotiation"]),
        )
    ).all()
    with_active_project = db.session.scalars(
        sa.select(sa.func.count(sa.distinct(Client.id)))
        .join(Project, Project.client_id == Client.id)
        .where(
            Client.workspace_id == agency.id,
            Client.archived.is_(False),
            Project.status == "active",
        )
    ).one()
    this_year = metrics.resolve_period("year", TODAY)

    figures = metrics.cards(
        db.session, agency, metrics.Period(metrics.PeriodKey.ALL), TODAY
    )
    in_year = metrics.cards(db.session, agency, this_year, TODAY)

    assert figures.active_clients == with_active_project
    assert figures.revenue_minor == sum(r.paid for r in issued)
    assert in_year.revenue_minor == sum(
        p.amount_minor
        for p in payments_on_issued(agency.id)
        if this_year.start <= p.paid_on < this_year.end
    )
    assert figures.pending_minor == sum(r.total_minor - r.paid for r in issued)
    assert in_year.overdue_minor == sum(
        r.total_minor - r.paid for r in issued if r.due_date < TODAY
    )
    assert figures.open_value_minor == sum(d.value_minor for d in open_deals)
    exact = sum(d.value_minor * d.probability for d in open_deals)
    assert figures.weighted_value_minor == (exact + 50) // 100


def test_charts_match_a_count_payment_by_payment(agency):
    rows = invoices_with_paid(agency.id)
    payments = payments_on_issued(agency.id)
    invoiced, collected, per_client = (
        defaultdict(int),
        defaultdict(int),
        defaultdict(int),
    )
    for r in rows:
        if r.state == "issued":
            invoiced[(r.issue_date.year, r.issue_date.month)] += r.total_minor
    for p in payments:
        collected[(p.paid_on.year, p.paid_on.month)] += p.amount_minor
        per_client[p.client_id] += p.amount_minor

    months = metrics.monthly_revenue(db.session, agency, TODAY)
    comparison = metrics.year_comparison(db.session, agency, TODAY)
    shares = metrics.client_shares(
        db.session, agency, metrics.Period(metrics.PeriodKey.ALL)
    )

    assert [m.invoiced_minor for m in months] == [
        invoiced[(m.year, m.month)] for m in months
    ]
    assert [m.collected_minor for m in months] == [
        collected[(m.year, m.month)] for m in months
    ]
    assert [m.last_year_minor for m in comparison.months] == [
        collected[(2025, n)] for n in range(1, 13)
    ]
    top = sorted(per_client.values(), reverse=True)
    assert [c.collected_minor for c in shares.clients] == top[:5]
    assert shares.others_minor == sum(top[5:])
    assert shares.total_minor == sum(top)
