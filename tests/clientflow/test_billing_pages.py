"""The billing pages: the creation flow, the invoice page, the list, the settings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from clientflow_plugin import clock
from clientflow_plugin import invoices as domain
from clientflow_plugin.models import Invoice, InvoiceLine, Payment, Settings, TaxRate
from host_stub.extensions import db
from tests.clientflow.billing_factories import (
    issued_invoice,
    line,
    new_client,
    rate_id,
    snapshot,
)


@pytest.fixture
def base(workspace):
    return f"/w/{workspace.slug}/clientflow/billing"


@pytest.fixture
def client(workspace):
    return new_client(workspace, name="Lucía Fernández", region="ES")


@pytest.fixture
def spanish_owner(app, make_user, workspace, login):
    user = make_user("agency_owner", workspace, language="es")
    return login(app.test_client(), user)


def draft(workspace, client, *lines, **kwargs):
    invoice = domain.create_draft(workspace, client, lines=list(lines), **kwargs)
    db.session.commit()
    return invoice


def text(response) -> str:
    return response.get_data(as_text=True)


def today(workspace) -> date:
    return clock.today_in(workspace)


# --- step 1 ---------------------------------------------------------------------


def test_new_invoice_preselects_the_client_of_the_link(owner_client, base, client):
    page = text(owner_client.get(f"{base}/invoices/new?client_id={client.id}"))

    assert f'<option selected value="{client.id}">' in page


def test_new_invoice_for_a_client_of_another_workspace_is_404(
    owner_client, base, make_workspace
):
    theirs = new_client(make_workspace())

    response = owner_client.get(f"{base}/invoices/new?client_id={theirs.id}")

    assert response.status_code == 404


def test_choosing_the_client_creates_a_draft_and_opens_its_lines(
    owner_client, base, client
):
    response = owner_client.post(f"{base}/invoices/new", data={"client_id": client.id})

    invoice = db.session.scalar(select(Invoice))
    assert (invoice.state, invoice.client_id) == ("draft", client.id)
    assert response.status_code == 303
    assert response.location.endswith(f"/invoices/{invoice.id}/lines")


def test_the_client_of_a_draft_can_be_changed(owner_client, base, workspace, client):
    invoice = draft(workspace, client, line(1000))
    other = new_client(workspace, name="Jorge Ramírez", region="MX")

    owner_client.post(
        f"{base}/invoices/{invoice.id}/client", data={"client_id": other.id}
    )

    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).client_id == other.id


# --- step 2 ---------------------------------------------------------------------


def test_spanish_reader_adds_fractional_hours_with_a_comma(
    spanish_owner, base, workspace, client
):
    invoice = draft(workspace, client)

    spanish_owner.post(
        f"{base}/invoices/{invoice.id}/lines",
        data={
            "kind": "hours",
            "description": "Diseño",
            "quantity": "1,5",
            "unit_price": "1.234,56",
            "discount_percent": "",
        },
    )

    stored = db.session.scalar(select(InvoiceLine))
    assert (stored.quantity, stored.unit_price_minor, stored.net_minor) == (
        Decimal("1.5"),
        123456,
        185184,
    )


def add_line(http, base, invoice, **fields):
    data = {
        "kind": "service",
        "description": "Web design",
        "quantity": "1",
        "unit_price": "100.00",
        "discount_percent": "0",
    }
    data.update(fields)
    return http.post(f"{base}/invoices/{invoice.id}/lines", data=data)


def test_a_new_line_gets_the_rates_proposed_for_the_region(
    owner_client, base, workspace, client
):
    invoice = draft(workspace, client)

    add_line(owner_client, base, invoice)

    stored = db.session.scalar(select(InvoiceLine))
    assert [rate.name for rate in stored.tax_rates] == ["IVA 21%"]


def test_a_mexican_client_is_proposed_mexican_vat(owner_client, base, workspace):
    invoice = draft(workspace, new_client(workspace, region="MX"))

    add_line(owner_client, base, invoice)

    stored = db.session.scalar(select(InvoiceLine))
    assert [rate.name for rate in stored.tax_rates] == ["IVA 16%"]


def test_a_line_can_be_edited_with_its_taxes(owner_client, base, workspace, client):
    vat, irpf = rate_id(workspace, "IVA 21%"), rate_id(workspace, "IRPF -15%")
    invoice = draft(workspace, client, line(1000, taxes=[vat]))
    line_id = invoice.lines[0].id

    owner_client.post(
        f"{base}/invoices/{invoice.id}/lines/{line_id}",
        data={
            "kind": "service",
            "description": "Consulting",
            "quantity": "2",
            "unit_price": "40.00",
            "discount_percent": "0",
            "tax_rate_ids": [vat, irpf],
        },
    )

    db.session.expire_all()
    stored = db.session.get(Invoice, invoice.id)
    assert (stored.lines[0].description, stored.total_minor) == ("Consulting", 8480)


def test_a_line_can_be_removed(owner_client, base, workspace, client):
    invoice = draft(workspace, client, line(1000), line(2000))

    owner_client.post(
        f"{base}/invoices/{invoice.id}/lines/{invoice.lines[0].id}/remove"
    )

    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).total_minor == 2000


def test_lines_page_works_without_javascript(owner_client, base, workspace, client):
    invoice = draft(workspace, client, line(1000))

    page = text(owner_client.get(f"{base}/invoices/{invoice.id}/lines"))

    assert f'action="{base}/invoices/{invoice.id}/lines#add-line"' in page
    assert "<script>" not in page
    assert 'style="' not in page


# --- step 3 ---------------------------------------------------------------------


def test_taxes_are_chosen_per_line(owner_client, base, workspace, client):
    vat, irpf = rate_id(workspace, "IVA 21%"), rate_id(workspace, "IRPF -15%")
    invoice = draft(workspace, client, line(4000), line(4000))
    first, second = (ln.id for ln in invoice.lines)

    owner_client.post(
        f"{base}/invoices/{invoice.id}/taxes",
        data={f"line-{first}": [vat, irpf], f"line-{second}": [vat]},
    )

    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).total_minor == 9080


def test_the_proposal_can_be_applied_to_every_line(
    owner_client, base, workspace, client
):
    invoice = draft(workspace, client, line(10000), line(10000))

    owner_client.post(
        f"{base}/invoices/{invoice.id}/taxes", data={"apply_proposed": "1"}
    )

    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).tax_minor == 4200


def test_taxes_page_marks_the_proposed_rates(owner_client, base, workspace, client):
    invoice = draft(workspace, client, line(1000))

    page = text(owner_client.get(f"{base}/invoices/{invoice.id}/taxes"))

    assert "Proposed for clients in ES: IVA 21%." in page


# --- step 4 ---------------------------------------------------------------------


def test_review_shows_every_rounding_step(owner_client, base, workspace, client):
    vat = rate_id(workspace, "IVA 21%")
    invoice = draft(workspace, client, line(5748, discount="10", taxes=[vat]))

    page = text(owner_client.get(f"{base}/invoices/{invoice.id}/review"))

    for step in ("€57.48", "-€5.748", "€51.732", "€51.73", "€10.8633", "€10.86"):
        assert step in page, step
    assert "€62.59" in page


def test_review_shows_the_share_of_the_invoice_discount(
    owner_client, base, workspace, client
):
    invoice = draft(workspace, client, line(4500, "3"), discount_minor=6000)

    page = text(owner_client.get(f"{base}/invoices/{invoice.id}/review"))

    assert "-€60.00 → <strong>€75.00</strong>" in page


def test_review_saves_dates_discount_and_terms(owner_client, base, workspace, client):
    invoice = draft(workspace, client, line(10000))

    owner_client.post(
        f"{base}/invoices/{invoice.id}/review",
        data={
            "issue_date": "2026-03-01",
            "due_date": "2026-03-31",
            "discount": "10.00",
            "terms": "30 days",
        },
    )

    db.session.expire_all()
    stored = db.session.get(Invoice, invoice.id)
    assert (stored.issue_date, stored.due_date, stored.total_minor, stored.terms) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
        9000,
        "30 days",
    )


def test_review_announces_the_number_the_invoice_will_get(
    owner_client, base, workspace, client
):
    invoice = draft(workspace, client, line(1000))

    page = text(owner_client.get(f"{base}/invoices/{invoice.id}/review"))

    assert f"{today(workspace).year}-0001" in page


# --- step 5 and the invoice page ------------------------------------------------


def test_issuing_from_the_review_opens_the_numbered_invoice(
    owner_client, base, workspace, client
):
    invoice = draft(workspace, client, line(1000))

    response = owner_client.post(
        f"{base}/invoices/{invoice.id}/issue", follow_redirects=True
    )

    number = f"{today(workspace).year}-0001"
    assert f"Invoice {number} issued." in text(response)
    assert response.request.path == f"{base}/invoices/{invoice.id}"


def test_an_issued_invoice_has_no_editing_pages(owner_client, base, workspace, client):
    invoice = issued_invoice(workspace, client)

    for step in ("client", "lines", "taxes", "review"):
        response = owner_client.get(f"{base}/invoices/{invoice.id}/{step}")
        assert response.status_code == 303, step
        assert response.location.endswith(f"/invoices/{invoice.id}")


def test_adding_a_line_to_an_issued_invoice_is_refused_clearly(
    owner_client, base, workspace, client
):
    invoice = issued_invoice(workspace, client)
    before = snapshot()

    response = add_line(owner_client, base, invoice)
    page = text(owner_client.get(response.location))

    assert "2026-0001 has been issued and can no longer be changed" in page
    assert snapshot() == before


def test_invoice_page_shows_status_balance_and_history(
    owner_client, base, workspace, client
):
    invoice = issued_invoice(workspace, client, due_on=date(2026, 3, 31))
    domain.record_payment(
        invoice, amount_minor=2500, paid_on=date(2026, 3, 5), today=date(2026, 3, 5)
    )
    db.session.commit()

    page = text(owner_client.get(f"{base}/invoices/{invoice.id}"))

    assert "badge-red" in page and "Overdue" in page
    assert "€75.00" in page
    assert "Issued: 2026-0001" in page
    assert "Payment recorded: 25.00 EUR" in page


def test_invoice_page_includes_the_sending_actions(
    owner_client, base, workspace, client
):
    invoice = issued_invoice(workspace, client)

    page = text(owner_client.get(f"{base}/invoices/{invoice.id}"))

    assert "Send and share" in page


def test_a_draft_opens_on_its_review(owner_client, base, workspace, client):
    invoice = draft(workspace, client, line(1000))

    response = owner_client.get(f"{base}/invoices/{invoice.id}")

    assert response.location.endswith(f"/invoices/{invoice.id}/review")


def test_a_partial_payment_is_recorded(owner_client, base, workspace, client):
    invoice = issued_invoice(workspace, client)

    response = owner_client.post(
        f"{base}/invoices/{invoice.id}/payments",
        data={
            "amount": "40.00",
            "paid_on": "2026-03-10",
            "method": "transfer",
            "reference": "TRF-1",
        },
        follow_redirects=True,
    )

    assert "Payment recorded." in text(response)
    assert db.session.scalar(select(Payment.amount_minor)) == 4000


def test_an_overpayment_is_refused_with_a_clear_message(
    owner_client, base, workspace, client
):
    invoice = issued_invoice(workspace, client)
    before = snapshot()

    response = owner_client.post(
        f"{base}/invoices/{invoice.id}/payments",
        data={"amount": "100.01", "paid_on": "2026-03-10", "method": "transfer"},
    )

    assert response.status_code == 400
    assert "more than the 100.00 EUR still owed" in text(response)
    assert snapshot() == before


def test_an_invoice_is_voided_with_a_reason(owner_client, base, workspace, client):
    invoice = issued_invoice(workspace, client)

    response = owner_client.post(
        f"{base}/invoices/{invoice.id}/void",
        data={"reason": "Billed twice"},
        follow_redirects=True,
    )

    assert "Reason: Billed twice" in text(response)
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).state == "void"


def test_a_draft_can_be_deleted(owner_client, base, workspace, client):
    invoice = draft(workspace, client, line(1000))

    owner_client.post(f"{base}/invoices/{invoice.id}/delete")

    assert db.session.scalar(select(Invoice.id)) is None


# --- other currencies -----------------------------------------------------------


def test_yen_line_of_one_hundred_shows_as_one_hundred_yen(
    app, make_workspace, make_user, login
):
    workspace = make_workspace(currency="JPY")
    http = login(app.test_client(), make_user("agency_owner", workspace))
    invoice = draft(workspace, new_client(workspace, region="JP"))
    base = f"/w/{workspace.slug}/clientflow/billing"

    add_line(http, base, invoice, unit_price="100")
    page = text(http.get(f"{base}/invoices/{invoice.id}/review"))

    assert db.session.scalar(select(InvoiceLine.unit_price_minor)) == 100
    assert "¥100" in page and "¥100.00" not in page


def test_yen_price_with_decimals_is_refused(app, make_workspace, make_user, login):
    workspace = make_workspace(currency="JPY")
    http = login(app.test_client(), make_user("agency_owner", workspace))
    invoice = draft(workspace, new_client(workspace, region="JP"))
    base = f"/w/{workspace.slug}/clientflow/billing"

    response = add_line(http, base, invoice, unit_price="100.5")

    assert response.status_code == 400
    assert "JPY amounts have no decimals." in text(response)


def test_dinar_price_has_three_decimals(app, make_workspace, make_user, login):
    workspace = make_workspace(currency="KWD")
    http = login(app.test_client(), make_user("agency_owner", workspace))
    invoice = draft(workspace, new_client(workspace, region="KW"))
    base = f"/w/{workspace.slug}/clientflow/billing"

    add_line(http, base, invoice, unit_price="1.234")
    refused = add_line(http, base, invoice, unit_price="1.2345")

    assert db.session.scalar(select(InvoiceLine.unit_price_minor)) == 1234
    assert "KWD amounts have at most 3 decimal places." in text(refused)


# --- the invoices page ----------------------------------------------------------


@pytest.fixture
def three_states(workspace, client):
    """One paid, one pending and one overdue invoice, seen on 15 April 2026."""
    paid = issued_invoice(workspace, client, line(10000))
    domain.record_payment(
        paid, amount_minor=10000, paid_on=date(2026, 3, 2), today=date(2026, 3, 2)
    )
    pending = issued_invoice(workspace, client, line(20000), due_on=date(2026, 5, 1))
    overdue = issued_invoice(workspace, client, line(40000), due_on=date(2026, 4, 1))
    domain.record_payment(
        overdue, amount_minor=15000, paid_on=date(2026, 3, 2), today=date(2026, 3, 2)
    )
    db.session.commit()
    return paid, pending, overdue


@pytest.fixture
def on_15_april(monkeypatch):
    monkeypatch.setattr(
        clock, "now_utc", lambda: datetime(2026, 4, 15, 10, 0, tzinfo=UTC)
    )


def test_invoices_page_totals_each_group(owner_client, base, three_states, on_15_april):
    page = text(owner_client.get(f"{base}/invoices"))

    assert "€100.00" in page  # paid in full
    assert "€200.00" in page  # pending
    assert "€250.00" in page  # overdue balance


def test_invoices_page_colours_each_status(
    owner_client, base, three_states, on_15_april
):
    page = text(owner_client.get(f"{base}/invoices"))

    assert page.count('class="badge cf-status badge-green"') == 1
    assert page.count('class="badge cf-status badge-yellow"') == 1
    assert page.count('class="badge cf-status badge-red"') == 1


def test_invoices_page_filters_by_status(owner_client, base, three_states, on_15_april):
    page = text(owner_client.get(f"{base}/invoices?status=overdue"))

    assert "2026-0003" in page
    assert "2026-0001" not in page and "2026-0002" not in page
    assert "Total of 1 invoice" in page


def test_invoices_page_shows_each_balance(
    owner_client, base, three_states, on_15_april
):
    page = text(owner_client.get(f"{base}/invoices?status=overdue"))

    assert "€400.00" in page and "€250.00" in page


def test_invoices_page_filters_by_client(owner_client, base, workspace, three_states):
    other = new_client(workspace, name="Jorge Ramírez", region="MX")
    issued_invoice(workspace, other)

    page = text(owner_client.get(f"{base}/invoices?client_id={other.id}"))

    assert "2026-0004" in page and "2026-0001" not in page


def test_invoices_page_pages_through_many_invoices(
    owner_client, base, workspace, client
):
    for _ in range(30):
        issued_invoice(workspace, client)

    page = text(owner_client.get(f"{base}/invoices?page=2"))

    assert "Page 2 of 2" in page
    assert page.count('class="cf-bill-number"') == 5


def test_invoices_page_runs_a_fixed_number_of_queries(
    owner_client, base, workspace, client, query_counter
):
    issued_invoice(workspace, client)
    with query_counter() as few:
        owner_client.get(f"{base}/invoices")
    other = new_client(workspace, name="Jorge Ramírez", region="MX")
    for n in range(12):
        invoice = issued_invoice(workspace, other if n % 2 else client)
        domain.record_payment(
            invoice, amount_minor=100, paid_on=date(2026, 3, 2), today=date(2026, 3, 2)
        )
    draft(workspace, client, line(1000))
    db.session.commit()

    with query_counter() as many:
        owner_client.get(f"{base}/invoices")

    # The host's own queries depend on its caches; ClientFlow's must not grow.
    ours = [[q for q in run if "clientflow_" in q] for run in (few, many)]
    assert len(ours[0]) == len(ours[1])
    # Two for the list and its group totals; the rest read the scheduler's
    # health (a fixed number per cron job), which the page shows.
    listing = [q for q in ours[1] if "clientflow_job_runs" not in q]
    assert len(listing) == 2


def mexico_city(make_workspace, make_user, login, app):
    workspace = make_workspace(timezone="America/Mexico_City", currency="MXN")
    http = login(app.test_client(), make_user("agency_owner", workspace))
    issued_invoice(
        workspace,
        new_client(workspace, region="MX"),
        issued_on=date(2026, 3, 1),
        due_on=date(2026, 3, 31),
    )
    return workspace, http


@pytest.mark.parametrize(
    ("utc", "badge"),
    [
        (datetime(2026, 4, 1, 5, 30, tzinfo=UTC), "badge-yellow"),  # 23:30 local
        (datetime(2026, 4, 1, 6, 30, tzinfo=UTC), "badge-red"),  # 00:30 local
    ],
)
def test_invoices_page_turns_overdue_at_local_midnight(
    app, make_workspace, make_user, login, monkeypatch, utc, badge
):
    workspace, http = mexico_city(make_workspace, make_user, login, app)
    monkeypatch.setattr(clock, "now_utc", lambda: utc)

    page = text(http.get(f"/w/{workspace.slug}/clientflow/billing/invoices"))

    assert f'class="badge cf-status {badge}"' in page
    assert "Mar 31, 2026" in page


# --- settings -------------------------------------------------------------------


def test_numbering_settings_change_the_next_number(owner_client, base, workspace):
    owner_client.post(
        f"{base}/settings",
        data={
            "invoice_prefix": "F-{year}/",
            "number_digits": "5",
            "payment_terms_days": "15",
        },
    )

    page = text(owner_client.get(f"{base}/settings"))

    assert f"F-{today(workspace).year}/00001" in page
    settings = db.session.get(Settings, workspace.id)
    assert settings.payment_terms_days == 15


def test_a_tax_rate_is_added(owner_client, base, workspace):
    owner_client.post(
        f"{base}/settings/tax-rates",
        data={
            "name": "IVA 10%",
            "rate": "10",
            "region": "es",
            "default_for_region": "",
        },
    )

    rate = db.session.scalar(select(TaxRate).where(TaxRate.name == "IVA 10%"))
    assert (rate.rate, rate.region, rate.default_for_region) == (
        Decimal("10.0000"),
        "ES",
        False,
    )


def test_a_withholding_is_a_negative_rate(owner_client, base):
    owner_client.post(
        f"{base}/settings/tax-rates",
        data={"name": "Retención", "rate": "-7,5", "region": "ES"},
    )

    rate = db.session.scalar(select(TaxRate).where(TaxRate.name == "Retención"))
    assert rate.rate == Decimal("-7.5")


def test_a_tax_rate_is_archived_and_no_longer_proposed(
    owner_client, base, workspace, client
):
    vat = rate_id(workspace, "IVA 21%")
    owner_client.post(
        f"{base}/settings/tax-rates/{vat}/archive", data={"archived": "1"}
    )
    invoice = draft(workspace, client)

    add_line(owner_client, base, invoice)

    assert db.session.scalar(select(InvoiceLine)).tax_rates == []


def test_the_percentage_of_a_rate_on_issued_invoices_cannot_change(
    owner_client, base, workspace, client
):
    vat = rate_id(workspace, "IVA 21%")
    issued_invoice(workspace, client, line(1000, taxes=[vat]))
    before = snapshot()

    response = owner_client.post(
        f"{base}/settings/tax-rates/{vat}",
        data={"name": "IVA 21%", "rate": "22", "region": "ES"},
    )

    assert response.status_code == 400
    assert "its percentage cannot change" in text(response)
    assert snapshot() == before


def test_the_name_of_a_rate_on_issued_invoices_can_change(
    owner_client, base, workspace, client
):
    vat = rate_id(workspace, "IVA 21%")
    issued_invoice(workspace, client, line(1000, taxes=[vat]))

    owner_client.post(
        f"{base}/settings/tax-rates/{vat}",
        data={"name": "IVA general", "rate": "21", "region": "ES"},
    )

    db.session.expire_all()
    assert db.session.get(TaxRate, vat).name == "IVA general"


def test_overdue_days_are_counted_in_the_workspace_zone(
    owner_client, base, workspace, client, monkeypatch
):
    invoice = issued_invoice(workspace, client, due_on=date(2026, 3, 31))
    monkeypatch.setattr(
        clock, "now_utc", lambda: datetime(2026, 3, 31, tzinfo=UTC) + timedelta(days=3)
    )

    page = text(owner_client.get(f"{base}/invoices/{invoice.id}"))

    assert "Overdue by 3 days" in page


def test_an_empty_quantity_means_one(owner_client, base, workspace, client):
    invoice = draft(workspace, client)

    add_line(owner_client, base, invoice, quantity="")

    assert db.session.scalar(select(InvoiceLine.quantity)) == Decimal(1)


def test_a_refused_tax_rate_keeps_the_numbering_form_filled(owner_client, base):
    response = owner_client.post(f"{base}/settings/tax-rates", data={"name": ""})

    assert 'value="{year}-"' in text(response)


def test_a_refused_void_keeps_the_payment_form_filled(
    owner_client, base, workspace, client
):
    invoice = issued_invoice(workspace, client)

    response = owner_client.post(f"{base}/invoices/{invoice.id}/void", data={})

    assert 'value="100.00"' in text(response)


def test_review_formats_every_step_for_a_spanish_reader(
    spanish_owner, base, workspace, client
):
    vat = rate_id(workspace, "IVA 21%")
    invoice = draft(workspace, client, line(5748, discount="10", taxes=[vat]))

    page = text(spanish_owner.get(f"{base}/invoices/{invoice.id}/review"))

    for step in ("57,48\xa0€", "51,732\xa0€", "10,8633\xa0€", "62,59\xa0€"):
        assert step in page, step


def test_changing_to_a_client_of_another_region_points_to_its_rates(
    owner_client, base, workspace, client
):
    invoice = draft(workspace, client, line(1000))
    mexican = new_client(workspace, name="Jorge Ramírez", region="MX")

    response = owner_client.post(
        f"{base}/invoices/{invoice.id}/client",
        data={"client_id": mexican.id},
        follow_redirects=True,
    )

    assert "the taxes step proposes the rates of MX" in text(response)
