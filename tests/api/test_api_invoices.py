"""Invoices through the API: drafts, issuing, payments, lists and their figures."""

from __future__ import annotations

from sqlalchemy import func, select

from clientflow_plugin.models import Invoice, Payment
from host_stub.extensions import db
from tests.api.factories import make_client, make_invoice, make_rate


def draft_body(client, **fields) -> dict:
    body = {
        "client_id": client.id,
        "lines": [{"description": "Design", "quantity": "3", "unit_price": "45.00"}],
    }
    body.update(fields)
    return body


def test_draft_is_created_with_exact_totals(api, workspace):
    client = make_client(workspace)
    rate = make_rate(workspace, "21")
    body = draft_body(client, discount="60.00")
    body["lines"][0]["tax_rate_ids"] = [rate.id]

    response = api.post("/invoices", json=body)

    assert response.status_code == 201
    data = response.json
    assert (data["subtotal"], data["tax"], data["total"]) == ("75.00", "15.75", "90.75")
    assert data["total_minor"] == 9075
    assert data["status"] == "draft"
    assert data["number"] is None


def test_hours_with_fractions_keep_their_quantity(api, workspace):
    client = make_client(workspace)
    body = draft_body(client)
    body["lines"][0].update(kind="hours", quantity="7.5", unit_price="60")

    data = api.post("/invoices", json=body).json

    assert data["lines"][0]["quantity"] == "7.5"
    assert data["lines"][0]["net"] == "450.00"


def test_amount_as_a_json_number_is_refused(api, workspace):
    client = make_client(workspace)
    body = draft_body(client)
    body["lines"][0]["unit_price"] = 45.1

    response = api.post("/invoices", json=body)

    assert response.status_code == 422
    assert "unit_price" in response.json["fields"]["lines"]["0"]


def test_amount_with_too_many_decimals_is_refused(api, workspace):
    client = make_client(workspace)
    body = draft_body(client)
    body["lines"][0]["unit_price"] = "45.001"

    response = api.post("/invoices", json=body)

    assert response.status_code == 422
    assert "unit_price" in response.json["fields"]


def test_missing_fields_are_named(api):
    response = api.post("/invoices", json={})

    assert response.status_code == 422
    assert response.json["error"] == "validation_error"
    assert set(response.json["fields"]) == {"client_id", "lines"}


def test_unknown_field_is_refused(api, workspace):
    body = draft_body(make_client(workspace), colour="red")

    response = api.post("/invoices", json=body)

    assert response.status_code == 422
    assert "colour" in response.json["fields"]


def test_body_that_is_not_json_gets_400(api):
    response = api.post(
        "/invoices", data="{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json["error"] == "bad_request"


def test_body_sent_as_a_form_gets_415(api):
    response = api.post("/invoices", data={"client_id": "1"})

    assert response.status_code == 415


def test_client_of_another_workspace_is_refused(api, make_workspace):
    stranger = make_client(make_workspace("other"))

    response = api.post("/invoices", json=draft_body(stranger))

    assert response.status_code == 422
    assert "client_id" in response.json["fields"]
    assert db.session.scalar(select(func.count(Invoice.id))) == 0


def test_issuing_gives_the_next_number(api, workspace):
    draft = make_invoice(workspace, make_client(workspace), issue=False)

    response = api.post(f"/invoices/{draft.id}/issue")

    assert response.status_code == 200
    assert response.json["number"].endswith("0001")
    assert response.json["status"] == "pending"


def test_issuing_twice_is_a_conflict(api, workspace):
    invoice = make_invoice(workspace, make_client(workspace))

    response = api.post(f"/invoices/{invoice.id}/issue")

    assert response.status_code == 409
    assert response.json["error"] == "conflict"


def test_partial_payment_leaves_a_balance(api, workspace):
    invoice = make_invoice(workspace, make_client(workspace), lines=[("1", 10000, [])])

    response = api.post(
        f"/invoices/{invoice.id}/payments",
        json={"amount": "40.00", "paid_on": invoice.issue_date.isoformat()},
    )

    assert response.status_code == 201
    assert (response.json["paid"], response.json["balance"]) == ("40.00", "60.00")
    assert response.json["status"] == "pending"


def test_full_payment_makes_it_paid(api, workspace):
    invoice = make_invoice(workspace, make_client(workspace), lines=[("1", 10000, [])])

    response = api.post(
        f"/invoices/{invoice.id}/payments",
        json={"amount": "100", "paid_on": invoice.issue_date.isoformat()},
    )

    assert response.json["status"] == "paid"
    assert response.json["balance_minor"] == 0


def test_overpayment_is_refused_with_a_message(api, workspace):
    invoice = make_invoice(workspace, make_client(workspace), lines=[("1", 10000, [])])

    response = api.post(
        f"/invoices/{invoice.id}/payments",
        json={"amount": "100.01", "paid_on": invoice.issue_date.isoformat()},
    )

    assert response.status_code == 422
    assert "amount" in response.json["fields"]
    assert db.session.scalar(select(func.count(Payment.id))) == 0


def test_payment_on_a_draft_is_a_conflict(api, workspace):
    draft = make_invoice(workspace, make_client(workspace), issue=False)

    response = api.post(
        f"/invoices/{draft.id}/payments",
        json={"amount": "1.00", "paid_on": "2026-01-01"},
    )

    assert response.status_code == 409


def test_invoice_shows_lines_taxes_and_payments(api, workspace):
    rate = make_rate(workspace, "21")
    invoice = make_invoice(
        workspace,
        make_client(workspace),
        lines=[("3", 4500, [rate])],
        paid_minor=1000,
    )

    data = api.get(f"/invoices/{invoice.id}").json

    assert data["lines"][0]["unit_price"] == "45.00"
    assert data["taxes"][0]["amount"] == "28.35"
    assert data["payments"][0]["amount"] == "10.00"
    assert data["balance"] == "153.35"


def test_list_filters_by_status(api, workspace):
    client = make_client(workspace)
    paid = make_invoice(workspace, client, lines=[("1", 500, [])], paid_minor=500)
    make_invoice(workspace, client)

    data = api.get("/invoices?status=paid").json

    assert [item["id"] for item in data["items"]] == [paid.id]
    assert data["total"] == 1


def test_list_is_paginated(api, workspace):
    client = make_client(workspace)
    for _ in range(3):
        make_invoice(workspace, client, issue=False)

    data = api.get("/invoices?per_page=2&page=2").json

    assert (data["total"], data["pages"], len(data["items"])) == (3, 2, 1)


def test_bad_page_is_a_validation_error(api):
    response = api.get("/invoices?page=0")

    assert response.status_code == 422
    assert "page" in response.json["fields"]


def test_list_reads_a_fixed_number_of_queries(api, workspace, query_counter):
    client = make_client(workspace)
    make_invoice(workspace, client, paid_minor=100)
    api.get("/invoices")
    with query_counter() as few:
        api.get("/invoices")
    for _ in range(8):
        make_invoice(workspace, client, paid_minor=100)
    api.get("/invoices")

    with query_counter() as many:
        api.get("/invoices")

    assert len(many) == len(few)


def test_invoice_of_another_workspace_answers_404(api, make_workspace):
    other = make_workspace("other")
    invoice = make_invoice(other, make_client(other), issue=False)

    read = api.get(f"/invoices/{invoice.id}")
    issue = api.post(f"/invoices/{invoice.id}/issue")

    assert (read.status_code, issue.status_code) == (404, 404)
    db.session.refresh(invoice)
    assert invoice.state == "draft"


def test_id_too_large_for_the_database_answers_404(api):
    response = api.get("/invoices/99999999999999999999")

    assert response.status_code == 404
    assert response.is_json
