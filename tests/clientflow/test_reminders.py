"""Overdue reminders against a real SMTP server on loopback."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from clientflow_plugin import reminders
from clientflow_plugin.models import (
    AuditEvent,
    Invoice,
    JobRun,
    PortalToken,
    Reminder,
    Settings,
)
from host_stub.extensions import db
from tests.clientflow.recurring_factories import at, make_client, make_invoice

DUE = date(2027, 3, 1)


@pytest.fixture
def client(workspace):
    return make_client(workspace)


@pytest.fixture
def invoice(workspace, client):
    return make_invoice(workspace, client, due_date=DUE, total_minor=12100)


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


def recorded_steps() -> list[int]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Reminder.step_days).order_by(Reminder.id)))


def test_the_default_schedule_is_3_10_and_30_days(workspace):
    settings = db.session.get(Settings, workspace.id)

    assert reminders.steps_of(settings) == (3, 10, 30)


def test_a_reminder_goes_out_three_days_after_the_due_date(invoice, smtp_server):
    summary = reminders.send_reminders(at(2027, 3, 4, 9))

    message = smtp_server.last()
    assert summary.sent == 1
    assert message.envelope_rcpt == ["billing@lumen.example"]
    assert invoice.number in message["Subject"]
    assert "overdue" in message["Subject"]
    assert "€121.00" in body(message)


def test_no_reminder_goes_out_before_the_first_step(invoice, smtp_server):
    reminders.send_reminders(at(2027, 3, 3, 20))

    assert len(smtp_server) == 0
    assert recorded_steps() == []


def test_the_day_starts_at_local_midnight_of_the_workspace(make_workspace, smtp_server):
    mexico = make_workspace(timezone="America/Mexico_City")
    make_invoice(mexico, make_client(mexico), due_date=DUE)

    # 05:30 UTC on 4 March is 23:30 on 3 March in Mexico City.
    reminders.send_reminders(at(2027, 3, 4, 5, 30))
    before = len(smtp_server)
    # 06:30 UTC is 00:30 on 4 March there: the third day has come.
    reminders.send_reminders(at(2027, 3, 4, 6, 30))

    assert before == 0
    assert len(smtp_server) == 1


def test_each_step_is_sent_once(invoice, smtp_server):
    reminders.send_reminders(at(2027, 3, 4, 9))

    again = reminders.send_reminders(at(2027, 3, 4, 10))
    next_day = reminders.send_reminders(at(2027, 3, 5, 10))

    assert again.sent == next_day.sent == 0
    assert len(smtp_server) == 1
    assert recorded_steps() == [3]


def test_every_step_goes_out_on_its_own_day(invoice, smtp_server):
    day = DUE
    while day <= date(2027, 4, 15):
        reminders.send_reminders(at(day.year, day.month, day.day, 9))
        day += timedelta(days=1)

    sent_on = [r.sent_at.date() for r in db.session.scalars(sa.select(Reminder))]
    assert recorded_steps() == [3, 10, 30]
    assert sent_on == [date(2027, 3, 4), date(2027, 3, 11), date(2027, 3, 31)]
    assert len(smtp_server) == 3


def test_after_missed_runs_only_the_latest_step_is_sent(invoice, smtp_server):
    reminders.send_reminders(at(2027, 3, 13, 9))
    reminders.send_reminders(at(2027, 3, 14, 9))

    assert recorded_steps() == [10]
    assert len(smtp_server) == 1


def test_a_paid_invoice_gets_no_reminder(workspace, client, smtp_server):
    make_invoice(workspace, client, due_date=DUE, total_minor=5000, paid_minor=5000)

    summary = reminders.send_reminders(at(2027, 3, 4, 9))

    assert summary.sent == 0
    assert len(smtp_server) == 0


def test_a_void_invoice_gets_no_reminder(workspace, client, smtp_server):
    make_invoice(workspace, client, state="void", due_date=DUE)

    reminders.send_reminders(at(2027, 3, 4, 9))

    assert len(smtp_server) == 0


def test_a_draft_gets_no_reminder(workspace, client, smtp_server):
    make_invoice(workspace, client, state="draft", due_date=DUE)

    reminders.send_reminders(at(2027, 3, 4, 9))

    assert len(smtp_server) == 0


def test_a_partly_paid_invoice_is_reminded_of_its_balance(
    workspace, client, smtp_server
):
    make_invoice(workspace, client, due_date=DUE, total_minor=12100, paid_minor=2100)

    reminders.send_reminders(at(2027, 3, 4, 9))

    assert "€100.00" in body(smtp_server.last())


def test_a_client_without_email_gets_no_reminder(workspace, smtp_server):
    make_invoice(workspace, make_client(workspace, email=""), due_date=DUE)

    summary = reminders.send_reminders(at(2027, 3, 4, 9))

    assert summary.sent == 0 and len(smtp_server) == 0


def test_a_sent_reminder_is_recorded_on_the_invoice_history(invoice, smtp_server):
    reminders.send_reminders(at(2027, 3, 4, 9))

    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.kind == "reminder_sent")
    )
    assert event.invoice_id == invoice.id
    assert event.detail == "step:3"
    assert reminders.describe_detail(event.detail) == "3 days after the due date"
    assert event.user_id is None


def test_a_failed_send_records_nothing(invoice, no_smtp_server):
    summary = reminders.send_reminders(at(2027, 3, 4, 9))

    assert summary.failed == 1
    assert recorded_steps() == []
    assert db.session.scalars(sa.select(AuditEvent)).all() == []
    assert db.session.scalars(sa.select(PortalToken)).all() == []


def test_a_failed_send_is_tried_again_on_the_next_run(app, invoice, smtp_server):
    port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = 1
    reminders.send_reminders(at(2027, 3, 4, 9))
    app.config["MAIL_PORT"] = port

    reminders.send_reminders(at(2027, 3, 4, 10))

    assert recorded_steps() == [3]
    assert len(smtp_server) == 1


def test_the_mail_carries_a_portal_link_of_the_invoice(app, invoice, smtp_server):
    with app.test_request_context(base_url="https://clientflow.example"):
        reminders.send_reminders(at(2027, 3, 4, 9))

    assert "https://clientflow.example/" in body(smtp_server.last())


def test_the_workspace_schedule_decides_the_days(workspace, invoice, smtp_server):
    reminders.save_steps(workspace.id, "5")
    db.session.commit()

    reminders.send_reminders(at(2027, 3, 4, 9))
    reminders.send_reminders(at(2027, 3, 6, 9))

    assert recorded_steps() == [5]


def test_an_empty_schedule_turns_reminders_off(workspace, invoice, smtp_server):
    reminders.save_steps(workspace.id, "")
    db.session.commit()

    reminders.send_reminders(at(2027, 4, 30, 9))

    assert len(smtp_server) == 0


@pytest.mark.parametrize("text", ["0", "3, x", "400", "1,2,3,4,5,6,7,8,9,10,11"])
def test_an_unreadable_schedule_is_refused(text):
    with pytest.raises(ValueError):
        reminders.parse_steps(text)


def test_a_schedule_is_read_in_any_order_without_repeats():
    assert reminders.parse_steps("30; 3, 10, 3") == (3, 10, 30)


def test_a_manual_reminder_is_sent_and_recorded(invoice, owner, smtp_server):
    reminders.send_reminder(invoice, actor_id=owner.id, now=at(2027, 3, 2, 9))

    reminder = db.session.scalar(sa.select(Reminder))
    assert (reminder.step_days, reminder.manual) == (1, True)
    assert len(smtp_server) == 1


def test_a_second_manual_reminder_the_same_day_is_refused(invoice, owner, smtp_server):
    reminders.send_reminder(invoice, actor_id=owner.id, now=at(2027, 3, 2, 9))

    with pytest.raises(reminders.AlreadySent):
        reminders.send_reminder(invoice, actor_id=owner.id, now=at(2027, 3, 2, 15))

    assert len(smtp_server) == 1


def test_a_manual_reminder_stands_for_the_step_of_its_day(invoice, owner, smtp_server):
    reminders.send_reminder(invoice, actor_id=owner.id, now=at(2027, 3, 11, 8))

    reminders.send_reminders(at(2027, 3, 11, 9))

    assert recorded_steps() == [10]
    assert len(smtp_server) == 1


def test_a_paid_invoice_refuses_a_manual_reminder(workspace, client, owner):
    paid = make_invoice(workspace, client, total_minor=100, paid_minor=100)

    with pytest.raises(reminders.ReminderError):
        reminders.send_reminder(paid, actor_id=owner.id)


def test_the_timeline_shows_sent_reminders_and_the_next_one(invoice, smtp_server):
    reminders.send_reminders(at(2027, 3, 4, 9))

    line = reminders.timeline(invoice, today=date(2027, 3, 5))

    assert [r.step_days for r in line.sent] == [3]
    assert (line.next_step, line.next_on) == (10, date(2027, 3, 11))


def test_the_timeline_of_a_paid_invoice_says_why_nothing_comes(workspace, client):
    paid = make_invoice(workspace, client, total_minor=100, paid_minor=100)

    line = reminders.timeline(paid, today=date(2027, 3, 5))

    assert line.next_step is None
    assert "Paid" in line.reason


def test_send_reminders_command_prints_counts_and_records_its_run(
    app, invoice, smtp_server
):
    with app.app_context():
        result = app.test_cli_runner().invoke(
            args=["clientflow", "send-reminders", "--now", "2027-03-04T09:00:00+0000"]
        )

    run = db.session.scalar(sa.select(JobRun))
    assert result.exit_code == 0, result.output
    assert "1 reminders sent" in result.output
    assert run.job == "send-reminders" and run.finished_at is not None


def test_two_overlapping_runs_send_each_reminder_once(
    app, monkeypatch, invoice, smtp_server
):
    barrier = threading.Barrier(2, timeout=30)
    found = reminders._due_in

    def due_then_wait(workspace, now):
        due = found(workspace, now)
        barrier.wait()
        return due

    monkeypatch.setattr(reminders, "_due_in", due_then_wait)
    db.session.remove()
    summaries, errors = [], []

    def one_run():
        try:
            with app.app_context():
                summaries.append(reminders.send_reminders(at(2027, 3, 4, 9)))
                db.session.remove()
        except BaseException as exc:  # reported by the test, not lost in a thread
            errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)

    assert errors == []
    assert sorted(s.sent for s in summaries) == [0, 1]
    assert sum(s.already_sent for s in summaries) == 1
    assert len(smtp_server) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invoice)) == 1


@pytest.mark.parametrize(
    ("detail", "english", "spanish"),
    [
        ("step:3", "3 days after the due date", "3 días tras el vencimiento"),
        ("step:1", "1 day after the due date", "1 día tras el vencimiento"),
        (
            "manual:10",
            "sent by hand, 10 days after the due date",
            "enviado a mano, 10 días tras el vencimiento",
        ),
        # Recorded before details were kept in no language.
        ("3 days after the due date", "3 days after the due date", None),
        ("something else", "something else", "something else"),
    ],
)
def test_a_reminder_detail_reads_in_the_reader_language(app, detail, english, spanish):
    with app.test_request_context():
        with force_locale("en"):
            assert reminders.describe_detail(detail) == english
        if spanish is not None:
            with force_locale("es"):
                assert reminders.describe_detail(detail) == spanish


def test_a_reminder_recorded_without_mail_is_kept_once_and_sends_nothing(
    invoice, smtp_server
):
    moment = at(2027, 3, 4, 9)

    reminders.record_without_mail(invoice, 3, moment)
    db.session.commit()

    reminder = db.session.scalar(sa.select(Reminder))
    assert (reminder.step_days, reminder.manual) == (3, False)
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.kind == "reminder_sent")
    )
    assert event.detail == "step:3"
    assert len(smtp_server) == 0
    with pytest.raises(reminders.AlreadySent):
        reminders.record_without_mail(invoice, 3, moment)
    # The scheduled run finds that step already done and sends nothing.
    assert reminders.send_reminders(moment).sent == 0
    assert len(smtp_server) == 0
