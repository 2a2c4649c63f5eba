"""Reminders of overdue invoices, on each workspace's schedule.

The schedule is a list of days after the due date (by default 3, 10 and
30), counted on the calendar of the workspace's time zone. Each step of an
invoice is sent once: the ``Reminder`` row is claimed (committed under a
unique key) before the mail leaves, so two overlapping runs cannot both
send it, and it is removed again if the mail server fails, so a failed send
leaves nothing recorded. When cron was down for a while, only the latest
step that has come is sent, never a burst of the missed ones.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from host_stub.sdk import MailError, Workspace, db, plugin_enabled, send_mail

from . import PLUGIN_NAME, audit, invoices, portal, sending
from .clock import now_utc, today_in
from .mail_links import can_build_links
from .models import (
    Client,
    Interaction,
    InteractionKind,
    Invoice,
    InvoiceState,
    PortalToken,
    Reminder,
    Settings,
)
from .setup import workspace_settings

logger = logging.getLogger(__name__)

DEFAULT_STEPS = (3, 10, 30)
MAX_STEPS = 10
MAX_STEP_DAYS = 365


class ReminderError(Exception):
    """A reminder that cannot be sent; ``str()`` is a message for the owner."""


class AlreadySent(ReminderError):
    """This step, or a manual reminder today, was already sent."""


class ReminderMailError(ReminderError):
    """The mail server failed; nothing was recorded."""


# --- the schedule -------------------------------------------------------------


def parse_steps(text: str) -> tuple[int, ...]:
    """ "3, 10, 30" as sorted days; ``ValueError`` with a message for the owner."""
    parts = [part.strip() for part in (text or "").replace(";", ",").split(",")]
    parts = [part for part in parts if part]
    steps = set()
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= MAX_STEP_DAYS:
            raise ValueError(
                _(
                    "Use whole days from 1 to %(max)s, separated by commas.",
                    max=MAX_STEP_DAYS,
                )
            )
        steps.add(int(part))
    if len(steps) > MAX_STEPS:
        raise ValueError(_("Use at most %(n)s reminders.", n=MAX_STEPS))
    return tuple(sorted(steps))


def format_steps(steps: Iterable[int]) -> str:
    return ", ".join(str(step) for step in steps)


def steps_of(settings: Settings | None) -> tuple[int, ...]:
    """The workspace's schedule; the default when unset, none when emptied."""
    if settings is None or settings.reminder_days is None:
        return DEFAULT_STEPS
    try:
        return parse_steps(settings.reminder_days)
    except ValueError:
        logger.warning(
            "workspace %s has an unreadable reminder schedule", settings.workspace_id
        )
        return DEFAULT_STEPS


def save_steps(workspace_id: int, text: str) -> tuple[int, ...]:
    """Store a new schedule (an empty one turns reminders off); flushed."""
    steps = parse_steps(text)
    workspace_settings(workspace_id).reminder_days = format_steps(steps)
    db.session.flush()
    return steps


def due_step(
    steps: Iterable[int], due_date: date, today: date, sent: Iterable[int]
) -> int | None:
    """The step to send today, if any.

    The latest step that has come, unless a reminder for it or a later day
    was already sent (a manual reminder stands for the step of its day).
    """
    overdue = (today - due_date).days
    come = [step for step in steps if step <= overdue]
    if not come:
        return None
    step = max(come)
    if any(done >= step for done in sent):
        return None
    return step


# --- the timeline shown on an invoice -----------------------------------------


@dataclass(frozen=True)
class Timeline:
    """The reminders of one invoice: those sent, and the next one due."""

    sent: tuple[Reminder, ...]
    steps: tuple[int, ...]
    next_step: int | None
    next_on: date | None
    #: Why no reminder is coming, for the owner: paid, void, draft...
    reason: str
    can_send_now: bool


def timeline(invoice: Invoice, today: date | None = None) -> Timeline:
    """The invoice's reminder history and the next reminder it will get."""
    workspace = db.session.get(Workspace, invoice.workspace_id)
    today = today or today_in(workspace)
    sent = tuple(
        db.session.scalars(
            select(Reminder)
            .where(Reminder.invoice_id == invoice.id)
            .order_by(Reminder.sent_at, Reminder.id)
        )
    )
    steps = steps_of(db.session.get(Settings, invoice.workspace_id))
    reason = _blocker(invoice)
    next_step = next_on = None
    if not reason and invoice.due_date is not None:
        next_step, next_on = _next(steps, invoice.due_date, today, sent)
        if next_step is None:
            reason = str(_l("No more reminders are scheduled."))
    return Timeline(
        sent=sent,
        steps=steps,
        next_step=next_step,
        next_on=next_on,
        reason=reason,
        can_send_now=not _blocker(invoice),
    )


def _next(steps, due_date, today, sent) -> tuple[int | None, date | None]:
    latest = max((r.step_days for r in sent), default=None)
    pending = [s for s in steps if latest is None or s > latest]
    if not pending:
        return None, None
    now_due = due_step(pending, due_date, today, [r.step_days for r in sent])
    if now_due is not None:
        return now_due, today
    overdue = (today - due_date).days
    later = [s for s in pending if s > overdue]
    if not later:
        return None, None
    return min(later), due_date + timedelta(days=min(later))


def _blocker(invoice: Invoice) -> str:
    """Why the invoice gets no reminder; empty when it can get one."""
    if invoice.state == InvoiceState.DRAFT:
        return str(_l("Drafts get no reminders."))
    if invoice.state == InvoiceState.VOID:
        return str(_l("Void invoices get no reminders."))
    if invoices.balance_minor(invoice) <= 0:
        return str(_l("Paid invoices get no reminders."))
    client = db.session.get(Client, invoice.client_id)
    if client is None or not (client.email or "").strip():
        return str(_l("The client has no email address."))
    return ""


# --- sending ------------------------------------------------------------------


def send_reminder(
    invoice: Invoice,
    *,
    step_days: int | None = None,
    actor_id: int | None,
    now: datetime | None = None,
) -> Reminder:
    """Email the client a reminder of ``invoice`` and record it; commits.

    ``step_days`` is the schedule's step; None sends one by hand, recorded
    as the day's number of days past due. Raises ``AlreadySent`` when that
    step (or a manual reminder today) went out before, ``ReminderMailError``
    when the mail server fails (nothing is recorded), ``ReminderError`` when
    the invoice cannot get a reminder.
    """
    now = now or now_utc()
    workspace = db.session.get(Workspace, invoice.workspace_id)
    today = today_in(workspace, now)
    blocker = _blocker(invoice)
    if blocker:
        raise ReminderError(blocker)
    manual = step_days is None
    if manual:
        step_days = (today - invoice.due_date).days if invoice.due_date else 0

    reminder = _claim(invoice, step_days, manual, now)
    link_id = None
    try:
        url, link_id = _portal_link(invoice, workspace, actor_id)
        _mail(invoice, workspace, today, url)
    except MailError as exc:
        _release(reminder.id, link_id)
        logger.warning("reminder for invoice %s not sent: mail failed", invoice.id)
        raise ReminderMailError(
            _(
                "The reminder was not sent: the mail server could not be reached "
                "or refused the message. Nothing was recorded; try again later."
            )
        ) from exc
    except Exception:
        _release(reminder.id, link_id)
        raise

    _record_sent(invoice, reminder, link_id, actor_id, now)
    db.session.commit()
    logger.info("reminder %s sent for invoice %s", step_days, invoice.id)
    return reminder


def record_without_mail(invoice: Invoice, step_days: int, moment: datetime) -> Reminder:
    """Record a scheduled reminder as sent at ``moment`` without mailing it:
    for reminders that went out before ClientFlow kept the invoice (a
    workspace's past, the demo's). The invoice's history and the client's
    interactions show it as ``send_reminder`` would. The reminder is
    committed at once, as ``send_reminder`` claims it, so a step is never
    recorded twice; its history entries go with the caller's commit."""
    reminder = _claim(invoice, step_days, False, moment)
    _record_sent(invoice, reminder, None, None, moment)
    return reminder


def _claim(invoice: Invoice, step_days: int, manual: bool, now: datetime) -> Reminder:
    reminder = Reminder(
        invoice_id=invoice.id, step_days=step_days, sent_at=now, manual=manual
    )
    db.session.add(reminder)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if manual:
            raise AlreadySent(
                _("A reminder of this invoice was already sent today.")
            ) from None
        raise AlreadySent(_("This reminder was already sent.")) from None
    return reminder


def _release(reminder_id: int, link_id: int | None) -> None:
    """Undo a claim whose mail never left; the client received nothing."""
    db.session.rollback()
    for model, row_id in ((PortalToken, link_id), (Reminder, reminder_id)):
        row = db.session.get(model, row_id) if row_id is not None else None
        if row is not None:
            db.session.delete(row)
    db.session.commit()


def _portal_link(
    invoice: Invoice, workspace: Workspace, actor_id: int | None
) -> tuple[str | None, int | None]:
    """A new portal link of the invoice, committed, or none without a base URL."""
    if not can_build_links():
        return None, None
    token, link = portal.create_link(invoice, actor_id=actor_id, record=False)
    db.session.commit()
    return sending.portal_url(workspace, token), link.id


def _mail(invoice: Invoice, workspace: Workspace, today: date, url: str | None) -> None:
    client = db.session.get(Client, invoice.client_id)
    language = sending.reader_language(client, workspace)
    with force_locale(language):
        overdue_days = (today - invoice.due_date).days if invoice.due_date else 0
        context = {
            "invoice": invoice,
            "client": client,
            "workspace": workspace,
            "url": url,
            "balance_minor": invoices.balance_minor(invoice),
            "overdue_days": overdue_days,
        }
        if overdue_days > 0:
            subject = _(
                "Reminder: invoice %(number)s from %(agency)s is overdue",
                number=invoice.number,
                agency=workspace.name,
            )
        else:
            subject = _(
                "Reminder: invoice %(number)s from %(agency)s",
                number=invoice.number,
                agency=workspace.name,
            )
        text = render_template("clientflow/recurring/reminder_email.txt", **context)
        html = render_template("clientflow/recurring/reminder_email.html", **context)
    send_mail(client.email.strip(), subject, text, html=html)


def _record_sent(
    invoice: Invoice,
    reminder: Reminder,
    link_id: int | None,
    actor_id: int | None,
    now: datetime,
) -> None:
    if link_id is not None:
        link = db.session.get(PortalToken, link_id)
        portal.record_created(invoice, link, actor_id=actor_id)
    # Kept in no language: the invoice's history says it in the reader's.
    detail = f"{'manual' if reminder.manual else 'step'}:{reminder.step_days}"
    audit.record(
        invoice.workspace_id,
        "reminder_sent",
        invoice_id=invoice.id,
        user_id=actor_id,
        detail=detail,
    )
    db.session.add(
        Interaction(
            workspace_id=invoice.workspace_id,
            client_id=invoice.client_id,
            kind=InteractionKind.EMAIL,
            occurred_at=now,
            summary=_("Payment reminder for invoice %(number)s", number=invoice.number),
            user_id=actor_id,
        )
    )


# --- the cron run -------------------------------------------------------------


@dataclass
class ReminderSummary:
    workspaces: int = 0
    sent: int = 0
    already_sent: int = 0
    not_sendable: int = 0
    failed: int = 0

    def line(self) -> str:
        return (
            f"{self.workspaces} workspaces, {self.sent} reminders sent, "
            f"{self.already_sent} sent by another run, {self.not_sendable} not "
            f"sendable, {self.failed} failed"
        )


Report = Callable[[str], None]


def send_reminders(
    now: datetime | None = None, *, report: Report | None = None
) -> ReminderSummary:
    """Send every reminder due at ``now``, in each workspace's time zone."""
    now = now or now_utc()
    say = report or (lambda _text: None)
    summary = ReminderSummary()
    for workspace in db.session.scalars(select(Workspace).order_by(Workspace.id)):
        if not plugin_enabled(workspace, PLUGIN_NAME):
            continue
        summary.workspaces += 1
        for invoice_id, step in _due_in(workspace, now):
            _send_one(invoice_id, step, now, summary, say)
    return summary


def _due_in(workspace: Workspace, now: datetime) -> list[tuple[int, int]]:
    """(invoice id, step) of every reminder of the workspace due at ``now``."""
    steps = steps_of(db.session.get(Settings, workspace.id))
    if not steps:
        return []
    today = today_in(workspace, now)
    latest_due = today - timedelta(days=min(steps))
    candidates = db.session.execute(
        select(Invoice.id, Invoice.due_date)
        .join(Client, Client.id == Invoice.client_id)
        .where(
            Client.email != "",
            Invoice.workspace_id == workspace.id,
            Invoice.state == InvoiceState.ISSUED,
            Invoice.due_date <= latest_due,
            invoices.balance_expr() > 0,
        )
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    sent: dict[int, list[int]] = {}
    for invoice_id, step_days in db.session.execute(
        select(Reminder.invoice_id, Reminder.step_days).where(
            Reminder.invoice_id.in_([row[0] for row in candidates])
        )
    ):
        sent.setdefault(invoice_id, []).append(step_days)
    due = []
    for invoice_id, due_date in candidates:
        step = due_step(steps, due_date, today, sent.get(invoice_id, ()))
        if step is not None:
            due.append((invoice_id, step))
    return due


def _send_one(
    invoice_id: int, step: int, now: datetime, summary: ReminderSummary, say: Report
) -> None:
    invoice = db.session.get(Invoice, invoice_id)
    try:
        send_reminder(invoice, step_days=step, actor_id=None, now=now)
    except AlreadySent:
        summary.already_sent += 1
        say(f"invoice {invoice_id} step {step}: sent by another run")
    except ReminderMailError:
        summary.failed += 1
        say(f"invoice {invoice_id} step {step}: mail failed, will retry")
    except ReminderError:
        summary.not_sendable += 1
        say(f"invoice {invoice_id} step {step}: cannot be sent (no email?)")
    except Exception:
        db.session.rollback()
        logger.exception("reminder of invoice %s failed", invoice_id)
        summary.failed += 1
        say(f"invoice {invoice_id} step {step}: failed, see the log")
    else:
        summary.sent += 1
        say(f"invoice {invoice_id} step {step}: sent")


#: How reminders were recorded before their history said them in the
#: reader's language ("sent by hand, 3 days after the due date").
_ENGLISH_DETAIL = re.compile(r"(sent by hand, )?(\d+) days? after the due date")


def describe_detail(detail: str) -> str:
    """A reminder's history detail (``step:3`` or ``manual:3``) in the
    reader's language; a detail of another form is shown as it is."""
    kind, _sep, days = detail.partition(":")
    if kind not in ("step", "manual") or not days.isdigit():
        old = _ENGLISH_DETAIL.fullmatch(detail)
        if old is None:
            return detail
        kind, days = ("manual" if old.group(1) else "step"), old.group(2)
    n = int(days)
    if kind == "manual":
        return ngettext(
            "sent by hand, %(num)d day after the due date",
            "sent by hand, %(num)d days after the due date",
            n,
        )
    return ngettext(
        "%(num)d day after the due date", "%(num)d days after the due date", n
    )
