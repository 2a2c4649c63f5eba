"""The recurring pages: templates, presets, drafts, reminders and hour packs."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import render_template_string

from clientflow_plugin.clock import now_utc, today_in
from clientflow_plugin.models import (
    HourPack,
    Invoice,
    InvoiceTemplate,
    JobRun,
    Reminder,
    Settings,
    TaxRate,
)
from host_stub.extensions import db
from tests.clientflow.recurring_factories import (
    make_client,
    make_invoice,
    make_pack,
    make_template,
)

BASE = "/w/acme/clientflow/recurring"


@pytest.fixture
def client(workspace):
    return make_client(workspace)


def template_form(client, **overrides) -> dict:
    data = {
        "name": "Acme retainer",
        "kind": "retainer",
        "client_id": str(client.id),
        "terms": "Net 15",
        "discount": "",
        "due_days": "15",
        "hours_in_pack": "",
        "frequency": "monthly",
        "anchor_date": "2027-01-31",
        "end_date": "",
        "on_run": "issue",
        "active": "y",
        "lines-0-kind": "service",
        "lines-0-description": "Maintenance {period}",
        "lines-0-quantity": "1",
        "lines-0-unit_price": "1,500.00",
        "lines-0-discount_percent": "",
        "lines-1-kind": "service",
        "lines-1-description": "",
        "lines-1-quantity": "",
        "lines-1-unit_price": "",
    }
    data.update(overrides)
    return data


def record_runs(*jobs, at=None):
    for job in jobs:
        moment = at or now_utc()
        db.session.add(JobRun(job=job, started_at=moment, finished_at=moment))
    db.session.commit()


def test_the_templates_page_offers_the_three_presets(owner_client):
    page = owner_client.get(f"{BASE}/").get_data(as_text=True)

    assert "Monthly standard services" in page
    assert "Prepaid hour pack" in page
    assert "Project with defined deliverables" in page


def test_a_preset_fills_the_new_template_form(owner_client):
    page = owner_client.get(f"{BASE}/new?preset=project").get_data(as_text=True)

    assert 'value="Project with defined deliverables"' in page
    assert 'value="Discovery and plan"' in page
    assert 'value="Build and launch"' in page


def test_the_owner_creates_a_monthly_template(owner_client, workspace, client):
    rate = db.session.scalar(
        sa.select(TaxRate).where(TaxRate.workspace_id == workspace.id).limit(1)
    )

    response = owner_client.post(
        f"{BASE}/new",
        data=template_form(client, **{"lines-0-tax_rate_ids": str(rate.id)}),
    )

    template = db.session.scalar(sa.select(InvoiceTemplate))
    assert response.status_code == 303
    assert response.location.endswith(f"/recurring/{template.id}")
    assert (template.anchor_date, template.on_run) == (date(2027, 1, 31), "issue")
    assert [line.unit_price_minor for line in template.lines] == [150000]
    assert template.lines[0].tax_rate_ids == str(rate.id)


def test_a_template_with_a_missing_price_is_shown_again(owner_client, client):
    response = owner_client.post(
        f"{BASE}/new", data=template_form(client, **{"lines-0-unit_price": ""})
    )

    assert response.status_code == 400
    assert "Enter an amount." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(InvoiceTemplate)) is None


def test_a_schedule_without_client_is_refused_beside_the_client(owner_client, client):
    response = owner_client.post(
        f"{BASE}/new", data=template_form(client, client_id="0")
    )

    assert response.status_code == 400
    assert "A schedule needs the client it bills." in response.get_data(as_text=True)


def test_more_empty_lines_saves_nothing(owner_client, client):
    response = owner_client.post(
        f"{BASE}/new", data=template_form(client, add_line="1")
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="lines-3-description"' in page
    assert db.session.scalar(sa.select(InvoiceTemplate)) is None


def test_the_owner_edits_a_template(owner_client, workspace, client):
    template = make_template(workspace, client)

    response = owner_client.post(
        f"{BASE}/{template.id}", data=template_form(client, name="Renamed")
    )

    db.session.expire_all()
    assert response.status_code == 303
    assert db.session.get(InvoiceTemplate, template.id).name == "Renamed"


def test_a_template_of_another_workspace_answers_404(owner_client, make_workspace):
    other = make_workspace()
    template = make_template(other, make_client(other))

    assert owner_client.get(f"{BASE}/{template.id}").status_code == 404
    assert owner_client.post(f"{BASE}/{template.id}/invoice").status_code == 404


def test_new_invoice_from_template_opens_the_draft_in_the_invoice_flow(
    owner_client, workspace, client
):
    template = make_template(workspace, client)

    response = owner_client.post(f"{BASE}/{template.id}/invoice")

    invoice = db.session.scalar(sa.select(Invoice))
    assert response.status_code == 303
    assert response.location.endswith(f"/billing/invoices/{invoice.id}/lines")
    assert invoice.state == "draft" and invoice.template_id == template.id


def test_a_template_without_client_asks_for_one(owner_client, workspace, client):
    template = make_template(workspace, None, frequency="none", anchor=None)

    refused = owner_client.post(f"{BASE}/{template.id}/invoice")
    made = owner_client.post(
        f"{BASE}/{template.id}/invoice", data={"client_id": str(client.id)}
    )

    assert refused.location.endswith(f"/recurring/{template.id}")
    assert made.location.endswith("/lines")
    assert db.session.scalar(sa.select(Invoice.client_id)) == client.id


def test_deleting_a_template_keeps_its_invoices(owner_client, workspace, client):
    template = make_template(workspace, client)
    owner_client.post(f"{BASE}/{template.id}/invoice")

    response = owner_client.post(f"{BASE}/{template.id}/delete")

    assert response.status_code == 303
    assert db.session.scalar(sa.select(InvoiceTemplate)) is None
    assert db.session.scalar(sa.select(sa.func.count(Invoice.id))) == 1


def test_the_reminder_schedule_is_saved(owner_client, workspace):
    response = owner_client.post(f"{BASE}/reminders", data={"reminder_days": "30, 7"})

    db.session.expire_all()
    assert response.status_code == 303
    assert db.session.get(Settings, workspace.id).reminder_days == "7, 30"


def test_an_unreadable_reminder_schedule_is_refused(owner_client, workspace):
    response = owner_client.post(f"{BASE}/reminders", data={"reminder_days": "soon"})

    db.session.expire_all()
    assert response.status_code == 400
    assert "Use whole days" in response.get_data(as_text=True)
    assert db.session.get(Settings, workspace.id).reminder_days == "3,10,30"


def test_the_send_reminder_button_emails_the_client(
    owner_client, workspace, client, smtp_server
):
    invoice = make_invoice(
        workspace, client, due_date=today_in(workspace) - timedelta(5)
    )

    response = owner_client.post(f"{BASE}/invoices/{invoice.id}/remind")

    reminder = db.session.scalar(sa.select(Reminder))
    assert response.status_code == 303
    assert response.location.endswith(f"/billing/invoices/{invoice.id}#reminders")
    assert reminder.manual
    assert smtp_server.last().envelope_rcpt == ["billing@lumen.example"]
    assert "/portal/" in smtp_server.last().get_body(("plain",)).get_content()


def test_the_send_reminder_button_on_a_paid_invoice_sends_nothing(
    owner_client, workspace, client, smtp_server
):
    invoice = make_invoice(workspace, client, total_minor=100, paid_minor=100)

    owner_client.post(f"{BASE}/invoices/{invoice.id}/remind")

    assert len(smtp_server) == 0
    assert db.session.scalar(sa.select(Reminder)) is None


def test_a_reminder_of_another_workspaces_invoice_answers_404(
    owner_client, make_workspace, smtp_server
):
    other = make_workspace()
    invoice = make_invoice(other, make_client(other))

    response = owner_client.post(f"{BASE}/invoices/{invoice.id}/remind")

    assert response.status_code == 404
    assert len(smtp_server) == 0


def test_the_packs_page_shows_hours_left_per_client(owner_client, workspace, client):
    pack = make_pack(workspace, client, hours="20", warn_below="5")
    make_invoice(workspace, client, hours=Decimal("16.5"), hour_pack=pack)

    page = owner_client.get(f"{BASE}/packs").get_data(as_text=True)

    assert "Lumen Studio" in page
    assert "3.5 h" in page
    assert "Running low" in page


def test_the_owner_records_hours_already_bought(owner_client, client):
    response = owner_client.post(
        f"{BASE}/packs",
        data={
            "client_id": str(client.id),
            "template_id": "0",
            "hours_bought": "12.5",
            "warn_below": "2",
        },
    )

    pack = db.session.scalar(sa.select(HourPack))
    assert response.status_code == 303
    assert (pack.hours_bought, pack.warn_below_hours) == (Decimal("12.5"), 2)


def test_the_owner_changes_a_packs_warning(owner_client, workspace, client):
    pack = make_pack(workspace, client)

    owner_client.post(f"{BASE}/packs/{pack.id}/warning", data={"warn_below": "8"})

    db.session.expire_all()
    assert db.session.get(HourPack, pack.id).warn_below_hours == 8


def test_the_top_up_button_opens_a_draft_from_the_packs_template(
    owner_client, workspace, client
):
    template = make_template(
        workspace,
        client,
        kind="hour_pack",
        frequency="none",
        anchor=None,
        hours_in_pack=Decimal(10),
    )
    pack = make_pack(workspace, client, template_id=template.id)

    response = owner_client.post(f"{BASE}/packs/{pack.id}/top-up")

    invoice = db.session.scalar(sa.select(Invoice))
    assert response.location.endswith(f"/billing/invoices/{invoice.id}/lines")
    assert db.session.scalar(sa.select(sa.func.count(HourPack.id))) == 2


def test_the_templates_page_warns_when_cron_has_not_run_for_a_day(owner_client):
    record_runs("run-schedules", "send-reminders", at=now_utc() - timedelta(hours=30))

    page = owner_client.get(f"{BASE}/").get_data(as_text=True)

    assert "The scheduler needs attention" in page
    assert "flask clientflow run-schedules" in page


def test_no_scheduler_warning_after_recent_runs(owner_client):
    record_runs("run-schedules", "send-reminders")

    page = owner_client.get(f"{BASE}/").get_data(as_text=True)

    assert "The scheduler needs attention" not in page


def test_the_scheduler_box_keeps_platform_wide_run_counts_to_itself(owner_client):
    """A cron run counts the schedules of every workspace; an owner sees when
    it ran, not how much the platform holds."""
    moment = now_utc()
    db.session.add(
        JobRun(
            job="run-schedules",
            started_at=moment,
            finished_at=moment,
            summary="412 schedules, 97 invoices created",
        )
    )
    db.session.commit()

    page = owner_client.get(f"{BASE}/").get_data(as_text=True)

    assert "Last run" in page
    assert "412 schedules" not in page


def test_a_failed_last_run_is_reported(owner_client):
    record_runs("run-schedules", "send-reminders")
    db.session.add(
        JobRun(job="send-reminders", started_at=now_utc(), summary="failed: OSError")
    )
    db.session.commit()

    page = owner_client.get(f"{BASE}/").get_data(as_text=True)

    assert "failed" in page and "Overdue reminders" in page


def render_partial(app, name: str, **context) -> str:
    """Render a partial as another page would include it, in a real request."""
    with app.test_request_context("/w/acme/clientflow/"):
        app.preprocess_request()
        return render_template_string(
            '{% include "clientflow/recurring/' + name + '" ignore missing %}',
            **context,
        )


def test_the_invoice_partial_shows_sent_reminders_and_the_next(app, workspace, client):
    invoice = make_invoice(
        workspace, client, due_date=today_in(workspace) - timedelta(4)
    )
    db.session.add(Reminder(invoice_id=invoice.id, step_days=3, sent_at=now_utc()))
    db.session.commit()

    html = render_partial(app, "_invoice_reminders.html", invoice=invoice)

    assert "Sent 3 days after the due date" in html
    assert "Next reminder, 10 days after the due date" in html
    assert "Send a reminder now" in html


def test_the_client_partial_shows_hours_left(app, workspace, client):
    make_pack(workspace, client, hours="10", warn_below="2")

    html = render_partial(app, "_client_packs.html", client=client)

    assert "10 h left" in html


def test_the_client_partial_is_empty_without_packs(app, client):
    html = render_partial(app, "_client_packs.html", client=client)

    assert html.strip() == ""


def test_the_templates_page_query_count_does_not_grow_with_templates(
    owner_client, workspace, client, query_counter
):
    make_template(workspace, client)
    owner_client.get(f"{BASE}/")
    with query_counter() as few:
        owner_client.get(f"{BASE}/")
    for n in range(5):
        make_template(workspace, make_client(workspace, name=f"Client {n}"))
    owner_client.get(f"{BASE}/")

    with query_counter() as many:
        owner_client.get(f"{BASE}/")

    assert len(many) == len(few)


def test_the_packs_page_query_count_does_not_grow_with_packs(
    owner_client, workspace, client, query_counter
):
    make_pack(workspace, client)
    owner_client.get(f"{BASE}/packs")
    with query_counter() as few:
        owner_client.get(f"{BASE}/packs")
    for n in range(5):
        other = make_client(workspace, name=f"Client {n}")
        make_invoice(
            workspace, other, hours=Decimal(2), hour_pack=make_pack(workspace, other)
        )
    owner_client.get(f"{BASE}/packs")

    with query_counter() as many:
        owner_client.get(f"{BASE}/packs")

    assert len(many) == len(few)


def test_the_client_partial_uses_hours_given_for_a_list_of_cards(
    app, workspace, client, query_counter
):
    make_pack(workspace, client, hours="7")
    db.session.refresh(client)
    with app.test_request_context("/w/acme/clientflow/"):
        app.preprocess_request()
        with query_counter() as statements:
            html = render_template_string(
                "{% set packs_by_client = cf_clients_hours(clients) %}"
                "{% for client in clients %}"
                '{% include "clientflow/recurring/_client_packs.html" %}'
                "{% endfor %}",
                clients=[client],
            )

    assert "7 h left" in html
    assert len(statements) == 2
