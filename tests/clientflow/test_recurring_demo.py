"""The demo's reminders and scheduler, and its recurring billing on the pages.

The workspace is Spanish, as ``flask seed-demo`` makes it; a few clients
with email addresses are billed by the demo's billing part, then the
recurring part records the reminders and the cron runs.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from clientflow_plugin import invoices, jobs
from clientflow_plugin.clock import today_in, zone
from clientflow_plugin.demo_data import billing as demo_billing
from clientflow_plugin.demo_data import recurring as demo_recurring
from clientflow_plugin.models import (
    AuditEvent,
    HourPack,
    Interaction,
    Invoice,
    InvoiceTemplate,
    JobRun,
    Reminder,
)
from host_stub.extensions import db
from tests.clientflow.recurring_factories import make_client

CLIENTS = (
    ("Lucía Fernández", "ES"),
    ("Jorge Ramírez", "MX"),
    ("Ana Costa", "ES-CN"),
    ("Martín Sosa", "AR"),
    ("Sofía Navarro", "ES"),
    ("Carlos Méndez", "ES"),
    ("Camila Torres", "CO"),
)
ROOT = "/w/demo/clientflow"


@pytest.fixture
def workspace(make_workspace):
    return make_workspace("demo", name="Estudio Nube Creativa", language="es")


@pytest.fixture
def seeded(workspace, owner):
    for n, (name, region) in enumerate(CLIENTS):
        make_client(workspace, name=name, region=region, email=f"c{n}@demo.example")
    rng = random.Random(7)
    demo_billing.seed(workspace, rng)
    db.session.commit()
    demo_recurring.seed(workspace, rng)
    return workspace


def test_overdue_invoices_have_the_reminders_cron_would_have_recorded(seeded):
    today = today_in(seeded)

    reminders = db.session.scalars(sa.select(Reminder)).all()

    assert reminders
    for reminder in reminders:
        invoice = db.session.get(Invoice, reminder.invoice_id)
        sent_on = reminder.sent_at.astimezone(zone(seeded)).date()
        assert invoices.status_of(invoice, today) == "overdue"
        assert sent_on == invoice.due_date + timedelta(days=reminder.step_days)
        assert reminder.step_days in (3, 10, 30) and not reminder.manual


def test_every_step_come_by_today_is_recorded(seeded):
    today = today_in(seeded)
    overdue = db.session.scalars(
        sa.select(Invoice).where(invoices.status_expr(today) == "overdue")
    ).all()

    assert overdue
    for invoice in overdue:
        steps = db.session.scalars(
            sa.select(Reminder.step_days)
            .where(Reminder.invoice_id == invoice.id)
            .order_by(Reminder.step_days)
        ).all()
        late = (today - invoice.due_date).days
        assert steps == [step for step in (3, 10, 30) if step <= late]


def test_each_reminder_is_in_the_history_and_the_interactions(seeded):
    sent_at = db.session.scalars(sa.select(Reminder.sent_at)).all()

    events = db.session.scalars(
        sa.select(AuditEvent.at).where(AuditEvent.kind == "reminder_sent")
    ).all()
    emails = db.session.scalars(
        sa.select(Interaction.occurred_at).where(
            Interaction.summary.like("Recordatorio de pago de la factura %")
        )
    ).all()

    assert sorted(events) == sorted(emails) == sorted(sent_at)


def test_no_mail_leaves_while_the_reminders_are_recorded(smtp_server, seeded):
    recorded = db.session.scalar(sa.select(sa.func.count(Reminder.id)))

    assert recorded > 0
    assert len(smtp_server) == 0


def test_both_cron_jobs_have_run_so_nothing_warns(seeded):
    runs = db.session.scalars(sa.select(JobRun)).all()

    assert {run.job for run in runs} == {jobs.RUN_SCHEDULES, jobs.SEND_REMINDERS}
    assert all(run.finished_at is not None for run in runs)
    assert jobs.scheduler_warnings() == []


def test_the_recurring_page_lists_the_templates_without_a_warning(seeded, owner_client):
    page = owner_client.get(f"{ROOT}/recurring/").get_data(as_text=True)

    assert "cf-rec-health" not in page and "badge-red" not in page
    for name in db.session.scalars(sa.select(InvoiceTemplate.name)):
        assert name in page


def test_the_client_page_shows_the_pack_running_low(seeded, owner_client):
    pack = db.session.scalars(sa.select(HourPack)).first()

    page = owner_client.get(f"{ROOT}/clients/{pack.client_id}")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "cf-rec-hours is-low" in html
    assert re.search(r"/recurring/packs/\d+/top-up", html)


def test_an_overdue_invoice_page_shows_its_reminders(seeded, owner_client):
    invoice_id, count = db.session.execute(
        sa.select(Reminder.invoice_id, sa.func.count())
        .group_by(Reminder.invoice_id)
        .order_by(sa.func.count().desc(), Reminder.invoice_id)
        .limit(1)
    ).one()

    page = owner_client.get(f"{ROOT}/billing/invoices/{invoice_id}")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert html.count('class="cf-rec-sent"') == count


def test_seed_demo_fills_recurring_billing_once(app):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["seed-demo"])
    counts = demo_counts()
    second = runner.invoke(args=["seed-demo"])

    assert first.exit_code == 0 and second.exit_code == 0, second.output
    assert "already exists" in second.output
    assert demo_counts() == counts
    templates, packs, reminders, runs, from_templates = counts
    assert (templates, packs, runs) == (5, 2, 2)
    assert reminders >= 5 and from_templates >= 20
    assert jobs.scheduler_warnings() == []


def demo_counts() -> tuple[int, ...]:
    db.session.expire_all()
    return (
        db.session.scalar(sa.select(sa.func.count(InvoiceTemplate.id))),
        db.session.scalar(sa.select(sa.func.count(HourPack.id))),
        db.session.scalar(sa.select(sa.func.count(Reminder.id))),
        db.session.scalar(sa.select(sa.func.count(JobRun.id))),
        db.session.scalar(
            sa.select(sa.func.count(Invoice.id)).where(Invoice.template_id.is_not(None))
        ),
    )
