"""Recurring invoices: dates from the anchor, idempotent runs, catch-up (C-07)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from clientflow_plugin import recurrence
from clientflow_plugin.models import (
    AuditEvent,
    Invoice,
    InvoiceTemplate,
    JobRun,
    TaxRate,
)
from host_stub.extensions import db
from host_stub.plugin_state import set_enabled
from tests.clientflow.recurring_factories import at, make_client, make_template

C07_DATES = [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]


@pytest.fixture
def client(workspace):
    return make_client(workspace)


@pytest.fixture
def template(workspace, client):
    return make_template(workspace, client, anchor=date(2027, 1, 31))


def generated() -> list[Invoice]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Invoice).order_by(Invoice.period_index)))


def test_monthly_dates_are_counted_from_the_anchor(template):
    dates = [recurrence.period_date(template, index) for index in range(4)]

    assert dates == C07_DATES


def test_a_schedule_on_the_31st_comes_back_to_the_31st(template):
    assert recurrence.period_date(template, 2) == date(2027, 3, 31)
    assert recurrence.period_date(template, 6) == date(2027, 7, 31)


def test_four_runs_on_the_period_dates_bill_each_month_once(template):
    for day in C07_DATES:
        recurrence.run_schedules(at(day.year, day.month, day.day, 9))

    invoices = generated()
    assert [inv.issue_date for inv in invoices] == C07_DATES
    assert [inv.period_index for inv in invoices] == [0, 1, 2, 3]


def test_running_twice_for_february_makes_one_invoice(template):
    recurrence.run_schedules(at(2027, 2, 28, 9))

    second = recurrence.run_schedules(at(2027, 2, 28, 10))

    assert second.created == 0
    assert [inv.issue_date for inv in generated()] == C07_DATES[:2]


def test_a_run_before_the_anchor_generates_nothing(template):
    summary = recurrence.run_schedules(at(2027, 1, 30, 9))

    assert summary.created == 0
    assert generated() == []


def test_missed_periods_are_caught_up_oldest_first(template):
    summary = recurrence.run_schedules(at(2027, 5, 1, 9))

    assert summary.created == 4
    assert [inv.issue_date for inv in generated()] == C07_DATES


def test_a_period_starts_at_local_midnight_of_the_workspace(make_workspace):
    tokyo = make_workspace(timezone="Asia/Tokyo")
    make_template(tokyo, make_client(tokyo), anchor=date(2027, 1, 31))

    # 14:30 UTC on 30 January is 23:30 in Tokyo: still the 30th there.
    before = recurrence.run_schedules(at(2027, 1, 30, 14, 30))
    # 15:30 UTC is 00:30 on 31 January in Tokyo.
    after = recurrence.run_schedules(at(2027, 1, 30, 15, 30))

    assert before.created == 0
    assert after.created == 1
    assert generated()[0].issue_date == date(2027, 1, 31)


def test_nothing_is_generated_after_the_end_date(workspace, client):
    make_template(workspace, client, end_date=date(2027, 3, 15))

    recurrence.run_schedules(at(2027, 6, 1))

    assert [inv.issue_date for inv in generated()] == C07_DATES[:2]


def test_a_paused_template_generates_nothing(template):
    template.active = False
    db.session.commit()

    recurrence.run_schedules(at(2027, 3, 1))

    assert generated() == []


def test_a_template_without_schedule_generates_nothing(workspace, client):
    make_template(workspace, client, frequency="none")

    recurrence.run_schedules(at(2027, 3, 1))

    assert generated() == []


def test_a_workspace_with_clientflow_off_gets_no_invoices(workspace, template):
    set_enabled(workspace, "clientflow", False, by=None)

    summary = recurrence.run_schedules(at(2027, 3, 1))

    assert summary.schedules == 0
    assert generated() == []


def test_an_archived_client_is_no_longer_billed(template, client):
    client.archived = True
    db.session.commit()

    recurrence.run_schedules(at(2027, 3, 1))

    assert generated() == []


def test_generated_drafts_carry_lines_terms_and_the_month_billed(template):
    recurrence.run_schedules(at(2027, 2, 28))

    february = generated()[1]
    assert february.state == "draft" and february.number is None
    assert february.lines[0].description == "Standard services February 2027"
    assert february.total_minor == 150000
    assert february.terms == "Payment by bank transfer."
    assert february.due_date == date(2027, 3, 15)


def test_template_taxes_reach_the_invoice(workspace, template):
    rate = TaxRate(workspace_id=workspace.id, name="VAT 21%", rate=Decimal("21"))
    db.session.add(rate)
    db.session.flush()
    template.lines[0].tax_rate_ids = str(rate.id)
    db.session.commit()

    recurrence.run_schedules(at(2027, 1, 31))

    invoice = generated()[0]
    assert invoice.tax_minor == 31500
    assert invoice.total_minor == 181500


def test_on_run_issue_gives_each_period_a_number(workspace, client):
    make_template(workspace, client, on_run="issue")

    recurrence.run_schedules(at(2027, 2, 28))

    invoices = generated()
    assert [inv.state for inv in invoices] == ["issued", "issued"]
    assert [inv.number for inv in invoices] == ["2027-0001", "2027-0002"]


def test_issued_catch_up_invoices_are_dated_the_day_they_are_issued(workspace, client):
    make_template(workspace, client, on_run="issue")

    recurrence.run_schedules(at(2027, 3, 5))

    assert {inv.issue_date for inv in generated()} == {date(2027, 3, 5)}
    assert [inv.lines[0].description for inv in generated()] == [
        "Standard services January 2027",
        "Standard services February 2027",
    ]


def test_on_run_send_emails_the_issued_invoice(app, workspace, client, smtp_server):
    make_template(workspace, client, on_run="send")

    with app.test_request_context(base_url="https://clientflow.example"):
        summary = recurrence.run_schedules(at(2027, 1, 31))

    invoice = generated()[0]
    assert summary.sent == 1
    assert invoice.sent_at is not None
    assert smtp_server.last().envelope_rcpt == ["billing@lumen.example"]
    assert (
        "https://clientflow.example/"
        in smtp_server.last().get_body(("plain",)).get_content()
    )


def test_a_mail_failure_leaves_the_invoice_issued_and_unsent(
    app, workspace, client, no_smtp_server
):
    make_template(workspace, client, on_run="send")

    with app.test_request_context(base_url="https://clientflow.example"):
        summary = recurrence.run_schedules(at(2027, 1, 31))

    invoice = generated()[0]
    assert (summary.issued, summary.sent, summary.failed) == (1, 0, 1)
    assert invoice.state == "issued" and invoice.sent_at is None


def test_issuing_by_schedule_is_in_the_audit_trail(workspace, client):
    make_template(workspace, client, on_run="issue")

    recurrence.run_schedules(at(2027, 1, 31))

    kinds = db.session.scalars(sa.select(AuditEvent.kind)).all()
    assert kinds == ["invoice_issued"]


def test_next_period_is_the_first_date_after_today(template):
    assert recurrence.next_period(template, date(2027, 2, 1)) == (
        1,
        date(2027, 2, 28),
    )


def test_the_anchor_cannot_move_once_invoices_were_generated(workspace, template):
    recurrence.run_schedules(at(2027, 1, 31))
    data = recurrence.data_of(template)
    data.anchor_date = date(2027, 2, 1)

    with pytest.raises(recurrence.TemplateError) as refused:
        recurrence.save_template(workspace, data, template)

    assert refused.value.field == "anchor_date"


def test_a_schedule_needs_a_client(workspace):
    data = recurrence.data_from_preset(recurrence.presets()["retainer"])
    data.anchor_date = date(2027, 1, 31)
    data.lines = [
        recurrence.LineSpec("service", "Retainer", Decimal(1), unit_price_minor=100)
    ]

    with pytest.raises(recurrence.TemplateError) as refused:
        recurrence.save_template(workspace, data)

    assert refused.value.field == "client"


def test_a_template_refuses_tax_rates_of_another_workspace(
    workspace, make_workspace, client
):
    other = make_workspace()
    rate = TaxRate(workspace_id=other.id, name="Other VAT", rate=Decimal("10"))
    db.session.add(rate)
    db.session.commit()
    data = recurrence.TemplateData(
        name="Retainer",
        lines=[
            recurrence.LineSpec(
                "service", "Retainer", Decimal(1), 100, tax_rate_ids=(rate.id,)
            )
        ],
    )

    with pytest.raises(recurrence.TemplateError):
        recurrence.save_template(workspace, data)


def test_the_presets_offer_the_three_kinds_of_the_product_page():
    presets = recurrence.presets()

    assert set(presets) == {"retainer", "hour_pack", "project"}
    assert presets["retainer"].frequency == "monthly"
    assert presets["hour_pack"].hours_in_pack == Decimal(20)
    assert len(presets["project"].lines) == 3


def test_new_invoice_from_template_makes_an_editable_draft(template, owner):
    invoice = recurrence.new_invoice_from_template(
        template, actor_id=owner.id, today=date(2027, 4, 10)
    )
    db.session.commit()

    assert invoice.state == "draft"
    assert invoice.template_id == template.id and invoice.period_index is None
    assert invoice.lines[0].description == "Standard services April 2027"
    assert invoice.due_date == date(2027, 4, 25)


def test_new_invoice_from_template_can_bill_another_client(workspace, template, owner):
    other = make_client(workspace, name="Other client")

    invoice = recurrence.new_invoice_from_template(
        template, client=other, actor_id=owner.id
    )

    assert invoice.client_id == other.id


def test_deleting_a_template_keeps_its_invoices(template):
    recurrence.run_schedules(at(2027, 2, 28))

    recurrence.delete_template(db.session.get(InvoiceTemplate, template.id))
    db.session.commit()

    assert [inv.template_id for inv in generated()] == [None, None]


def test_run_schedules_command_prints_counts_and_records_its_run(app, template):
    with app.app_context():
        result = app.test_cli_runner().invoke(
            args=["clientflow", "run-schedules", "--now", "2027-02-28T09:00:00+0000"]
        )

    run = db.session.scalar(sa.select(JobRun))
    assert result.exit_code == 0, result.output
    assert "2 invoices created" in result.output
    assert run.job == "run-schedules" and run.finished_at is not None
    assert "2 invoices created" in run.summary
