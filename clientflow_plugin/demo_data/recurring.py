"""The demo's reminders and scheduler, once its invoices exist.

The reminder schedule is set; every overdue invoice gets the reminders a
daily ``send-reminders`` would have recorded by today, recorded as that
command records them but without any mail leaving; and both cron commands
have a run on record, so no page warns that the scheduler is not running.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask_babel import force_locale
from sqlalchemy import select

from host_stub.sdk import Workspace, db, plugin_enabled

from .. import PLUGIN_NAME, invoices, jobs, recurrence, reminders
from ..clock import now_utc, today_in, zone
from ..models import Client, Invoice, InvoiceState, Settings
from .billing import backdate_events

REMINDER_DAYS = "3, 10, 30"
#: When the daily reminders leave, in the workspace's time zone.
SENT_AT = time(8, 35)


def seed(workspace, rng) -> None:
    """Set the reminder days, record the reminders so far and the cron runs."""
    reminders.save_steps(workspace.id, REMINDER_DAYS)
    db.session.commit()

    with force_locale(workspace.language or "en"):
        _record_reminders(workspace)
    _record_runs()


def _record_reminders(workspace) -> None:
    """Each step come by today of each overdue invoice, on its own day."""
    now = now_utc()
    today = today_in(workspace, now)
    steps = reminders.steps_of(db.session.get(Settings, workspace.id))
    overdue = db.session.scalars(
        select(Invoice)
        .join(Client, Client.id == Invoice.client_id)
        .where(
            Invoice.workspace_id == workspace.id,
            Invoice.state == InvoiceState.ISSUED,
            Invoice.due_date < today,
            invoices.balance_expr() > 0,
            Client.email != "",
        )
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    for invoice in overdue:
        for step in steps:
            day = invoice.due_date + timedelta(days=step)
            if day > today:
                break
            at = datetime.combine(day, SENT_AT, tzinfo=zone(workspace))
            _record_reminder(invoice, step, min(at.astimezone(UTC), now))


def _record_reminder(invoice: Invoice, step: int, moment: datetime) -> None:
    """What ``send_reminder`` records for a scheduled step, with no mail sent."""
    reminders.record_without_mail(invoice, step, moment)
    backdate_events(invoice.id, "reminder_sent", moment, latest_only=True)
    db.session.commit()


def _record_runs() -> None:
    """A run of each cron command now, as cron would have made this hour.

    Schedules really run (every month so far is made, so nothing is due);
    reminders are all recorded above, so their run has nothing to send.
    """
    with jobs.recorded(jobs.RUN_SCHEDULES) as run:
        run.summary = recurrence.run_schedules(now_utc()).line()
    with jobs.recorded(jobs.SEND_REMINDERS) as run:
        enabled = [
            workspace
            for workspace in db.session.scalars(select(Workspace))
            if plugin_enabled(workspace, PLUGIN_NAME)
        ]
        run.summary = reminders.ReminderSummary(workspaces=len(enabled)).line()
