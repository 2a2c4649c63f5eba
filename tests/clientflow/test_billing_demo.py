"""The demo invoices: two years of realistic billing, the same on every run.

Part of them come from the demo's templates: scheduled retainers, hour packs
and a project billed by deliverables.
"""

from __future__ import annotations

import random
import re

from sqlalchemy import func, select

from clientflow_plugin import clock, hour_packs, recurrence
from clientflow_plugin import invoices as domain
from clientflow_plugin.demo_data import billing as demo_billing
from clientflow_plugin.models import (
    HourPack,
    Invoice,
    InvoiceLine,
    InvoiceTax,
    InvoiceTemplate,
    Payment,
)
from host_stub.extensions import db
from tests.clientflow.billing_factories import new_client

#: Words of the English the demo once had, none of which Spanish uses.
ENGLISH = {
    "and", "by", "days", "design", "development", "half", "hosting", "licence",
    "maintenance", "management", "of", "payment", "shop", "the", "with", "year",
}  # fmt: skip

CLIENTS = (
    ("Lucía Fernández", "ES"),
    ("Jorge Ramírez", "MX"),
    ("Ana Costa", "ES-CN"),
    ("Martín Sosa", "AR"),
    ("Sofía Navarro", "ES"),
    ("Carlos Méndez", "ES"),
    ("Camila Torres", "CO"),
)


def seeded(make_workspace, seed=7, **fields):
    workspace = make_workspace(**fields)
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


def templates_of(workspace, **where) -> list[InvoiceTemplate]:
    return list(
        db.session.scalars(
            select(InvoiceTemplate)
            .filter_by(workspace_id=workspace.id, **where)
            .order_by(InvoiceTemplate.id)
        )
    )


def made_from(template) -> list[Invoice]:
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.template_id == template.id)
            .order_by(Invoice.period_index, Invoice.id)
        )
    )


def test_three_retainers_are_billed_every_month_by_their_schedule(make_workspace):
    workspace = seeded(make_workspace)
    today = clock.today_in(workspace)

    scheduled = templates_of(workspace, frequency="monthly")

    assert len({template.client_id for template in scheduled}) == 3
    for template in scheduled:
        made = made_from(template)
        assert len(made) >= 6
        assert [invoice.period_index for invoice in made] == list(range(len(made)))
        assert [invoice.issue_date for invoice in made] == [
            recurrence.period_date(template, n) for n in range(len(made))
        ]
        assert recurrence.missed_periods(template, today) == []


def test_two_schedules_issue_by_themselves_and_one_waits_for_review(make_workspace):
    workspace = seeded(make_workspace)

    scheduled = templates_of(workspace, frequency="monthly")
    states = {t.on_run: [i.state for i in made_from(t)] for t in scheduled}

    assert sorted(t.on_run for t in scheduled) == ["draft", "issue", "issue"]
    assert states["draft"] == ["issued"] * (len(states["draft"]) - 1) + ["draft"]
    assert {
        i.state for t in scheduled if t.on_run == "issue" for i in made_from(t)
    } == {"issued"}


def test_invoice_numbers_follow_issue_dates(make_workspace):
    workspace = seeded(make_workspace)

    dates = db.session.scalars(
        select(Invoice.issue_date)
        .where(Invoice.workspace_id == workspace.id, Invoice.number.is_not(None))
        .order_by(Invoice.number)
    ).all()

    assert dates == sorted(dates)


def test_the_hour_pack_client_has_nearly_used_their_second_pack(make_workspace):
    workspace = seeded(make_workspace)
    (template,) = templates_of(workspace, kind="hour_pack")

    hours = hour_packs.hours_for_client(template.client_id)

    assert [p.state for p in hours.packs] == ["active", "active"]
    assert [p.hours_used for p in hours.packs] == [hours.hours_used - 20, 20]
    assert hours.hours_bought == 40 and hours.hours_pending == 0
    assert 0 < hours.hours_left < hours.warn_below
    assert hours.low and hours.top_up_pack.template_id == template.id


def test_pack_hours_are_billed_on_the_monthly_invoices_at_no_charge(make_workspace):
    workspace = seeded(make_workspace)

    lines = db.session.scalars(
        select(InvoiceLine).where(InvoiceLine.hour_pack_id.is_not(None))
    ).all()
    purchases = db.session.scalars(
        select(Invoice).join(HourPack, HourPack.purchase_invoice_id == Invoice.id)
    ).all()

    assert len(lines) == 8
    assert {line.kind for line in lines} == {"hours"}
    assert {line.net_minor for line in lines} == {0}
    assert [p.state for p in purchases] == ["issued", "issued"]
    assert all(p.total_minor > 0 and p.workspace_id == workspace.id for p in purchases)


def test_the_project_template_has_no_schedule_and_billed_one_deliverable(
    make_workspace,
):
    workspace = seeded(make_workspace)
    (project,) = templates_of(workspace, kind="project")

    (invoice,) = made_from(project)

    assert project.frequency == "none" and project.client_id is None
    assert len(project.lines) == 3
    assert invoice.state == "issued"
    assert [line.description for line in invoice.lines] == [
        project.lines[0].description
    ]


def test_the_demo_invoices_are_written_in_spanish(make_workspace):
    seeded(make_workspace, language="es")

    texts = [
        *db.session.scalars(select(InvoiceLine.description).distinct()),
        *db.session.scalars(select(Invoice.terms).distinct()),
        *db.session.scalars(select(InvoiceTemplate.name)),
        *db.session.scalars(select(InvoiceTemplate.terms)),
    ]

    assert len(texts) > 20
    for text in texts:
        assert not ENGLISH & set(re.findall(r"\w+", text.lower())), text
    assert any(re.search(r"(enero|mayo|octubre|diciembre) \d{4}", t) for t in texts)
