"""Bad input on every billing form: a clear message, status 400, nothing changed.

And the ids of another workspace answer 404 on every billing URL (case C-10).
"""

from __future__ import annotations

from datetime import date

import pytest

from clientflow_plugin import invoices as domain
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
    return new_client(workspace)


@pytest.fixture
def a_draft(workspace, client):
    invoice = domain.create_draft(workspace, client, lines=[line(10000)])
    db.session.commit()
    return invoice


@pytest.fixture
def an_issued(workspace, client):
    return issued_invoice(workspace, client)


@pytest.fixture
def theirs(make_workspace):
    """A draft, an issued invoice, a client and a rate of another workspace."""
    other = make_workspace("theirs")
    their_client = new_client(other, name="Their client")
    their_draft = domain.create_draft(other, their_client, lines=[line(1000)])
    db.session.commit()
    return {
        "draft": their_draft,
        "issued": issued_invoice(other, their_client),
        "client": their_client,
        "rate": rate_id(other, "IVA 21%"),
    }


def refused(http, url, data, message):
    """Post ``data``: 400 with ``message`` and the database as it was."""
    before = snapshot()

    response = http.post(url, data=data)

    body = response.get_data(as_text=True)
    assert response.status_code == 400, body[-2000:]
    assert message in body
    assert snapshot() == before


GOOD_LINE = {
    "kind": "service",
    "description": "Web design",
    "quantity": "1",
    "unit_price": "100.00",
    "discount_percent": "0",
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantity": "-1"}, "Enter at least 0.0001."),
        ({"quantity": "0"}, "Enter at least 0.0001."),
        ({"quantity": "10000001"}, "Enter at most 10000000."),
        ({"quantity": "1e400"}, "Enter at most 10000000."),
        ({"quantity": "1.00001"}, "Use at most 4 decimal places."),
        ({"quantity": "lots"}, "Enter a number, e.g. 1.5."),
        ({"quantity": "NaN"}, "Enter a number, e.g. 1.5."),
        ({"unit_price": "10.555"}, "EUR amounts have at most 2 decimal places."),
        ({"unit_price": "-5"}, "The amount cannot be negative."),
        ({"unit_price": "100000000000.01"}, "The amount is too large."),
        ({"unit_price": "ten"}, "Enter an amount, e.g. 1,234.56."),
        ({"unit_price": ""}, "Enter an amount."),
        ({"discount_percent": "101"}, "Enter at most 100."),
        ({"discount_percent": "-1"}, "Enter at least 0."),
        ({"description": ""}, "Describe the line."),
        ({"description": "x" * 1001}, "Field cannot be longer than 1000 characters."),
        ({"kind": "gift"}, "Not a valid choice."),
        ({"quantity": "10000000", "unit_price": "10000000"}, "total is too large"),
    ],
)
def test_a_bad_line_is_refused(owner_client, base, a_draft, changes, message):
    data = {**GOOD_LINE, **changes}

    refused(owner_client, f"{base}/invoices/{a_draft.id}/lines", data, message)


def test_a_line_with_an_unknown_tax_rate_is_refused(owner_client, base, a_draft):
    data = {**GOOD_LINE, "tax_rate_ids": ["999999"]}
    url = f"{base}/invoices/{a_draft.id}/lines/{a_draft.lines[0].id}"

    refused(owner_client, url, data, "Unknown tax rate.")


def test_a_line_with_a_tax_rate_of_another_workspace_is_refused(
    owner_client, base, a_draft, theirs
):
    data = {**GOOD_LINE, "tax_rate_ids": [str(theirs["rate"])]}
    url = f"{base}/invoices/{a_draft.id}/lines/{a_draft.lines[0].id}"

    refused(owner_client, url, data, "Unknown tax rate.")


@pytest.mark.parametrize("value", ["999999", "abc", "99999999999999999999"])
def test_the_taxes_step_refuses_unknown_rates(owner_client, base, a_draft, value):
    data = {f"line-{a_draft.lines[0].id}": [value]}

    refused(owner_client, f"{base}/invoices/{a_draft.id}/taxes", data, "Unknown tax")


def test_the_taxes_step_refuses_a_rate_of_another_workspace(
    owner_client, base, a_draft, theirs
):
    data = {f"line-{a_draft.lines[0].id}": [str(theirs["rate"])]}

    refused(owner_client, f"{base}/invoices/{a_draft.id}/taxes", data, "Unknown tax")


GOOD_DETAILS = {"issue_date": "", "due_date": "", "discount": "", "terms": ""}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"issue_date": "1900-01-01"}, "Enter a date between 1990-01-01 and"),
        ({"due_date": "2200-01-01"}, "Enter a date between 1990-01-01 and"),
        ({"due_date": "31/03/2026"}, "Not a valid date value."),
        (
            {"issue_date": "2026-03-10", "due_date": "2026-03-09"},
            "The due date cannot be before the issue date.",
        ),
        ({"discount": "1.001"}, "EUR amounts have at most 2 decimal places."),
        ({"discount": "-1"}, "The amount cannot be negative."),
        ({"discount": "100.01"}, "The invoice discount is larger than the lines"),
        ({"terms": "x" * 5001}, "Field cannot be longer than 5000 characters."),
    ],
)
def test_bad_details_are_refused(owner_client, base, a_draft, changes, message):
    data = {**GOOD_DETAILS, **changes}

    refused(owner_client, f"{base}/invoices/{a_draft.id}/review", data, message)


GOOD_PAYMENT = {"amount": "10.00", "paid_on": "2026-03-10", "method": "transfer"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"amount": "10.001"}, "EUR amounts have at most 2 decimal places."),
        ({"amount": "0"}, "The amount must be greater than zero."),
        ({"amount": "-10"}, "The amount cannot be negative."),
        ({"amount": "100.01"}, "more than the 100.00 EUR still owed"),
        ({"amount": ""}, "Enter an amount."),
        ({"paid_on": "2999-01-01"}, "Enter a date between"),
        ({"paid_on": "2100-01-01"}, "The payment date cannot be later than today."),
        ({"paid_on": ""}, "Enter the date the payment arrived."),
        ({"method": "bitcoin"}, "Not a valid choice."),
        ({"reference": "x" * 201}, "Field cannot be longer than 200 characters."),
    ],
)
def test_a_bad_payment_is_refused(owner_client, base, an_issued, changes, message):
    data = {**GOOD_PAYMENT, **changes}

    refused(owner_client, f"{base}/invoices/{an_issued.id}/payments", data, message)


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "Say why the invoice is voided."), ("x" * 501, "longer than 500")],
)
def test_voiding_without_a_proper_reason_is_refused(
    owner_client, base, an_issued, reason, message
):
    url = f"{base}/invoices/{an_issued.id}/void"

    refused(owner_client, url, {"reason": reason}, message)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"invoice_prefix": "{month}-"}, "plus {year} for the year"),
        ({"invoice_prefix": "<b>"}, "plus {year} for the year"),
        ({"invoice_prefix": "x" * 33}, "Field cannot be longer than 32 characters."),
        ({"number_digits": "0"}, "Number must be between 1 and 10."),
        ({"number_digits": "99999999999999999999"}, "between 1 and 10"),
        ({"number_digits": "four"}, "Not a valid integer value."),
        ({"payment_terms_days": "-1"}, "Number must be between 0 and 365."),
        ({"payment_terms_days": ""}, "Enter the payment terms in days."),
    ],
)
def test_bad_numbering_settings_are_refused(owner_client, base, changes, message):
    data = {
        "invoice_prefix": "{year}-",
        "number_digits": "4",
        "payment_terms_days": "30",
        **changes,
    }

    refused(owner_client, f"{base}/settings", data, message)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rate": "101"}, "A rate is a percentage from -100 to 100."),
        ({"rate": "-100.5"}, "A rate is a percentage from -100 to 100."),
        ({"rate": "twenty"}, "Enter a percentage, e.g. 21 or -15."),
        ({"rate": "21.00001"}, "Use at most 4 decimal places."),
        ({"rate": "Infinity"}, "A rate is a percentage from -100 to 100."),
        ({"name": ""}, "Give the rate a name."),
        ({"region": "X" * 33}, "Field cannot be longer than 32 characters."),
    ],
)
def test_a_bad_tax_rate_is_refused(owner_client, base, changes, message):
    data = {"name": "IVA 10%", "rate": "10", "region": "ES", **changes}

    refused(owner_client, f"{base}/settings/tax-rates", data, message)


def test_choosing_a_client_of_another_workspace_is_refused(
    owner_client, base, client, theirs
):
    data = {"client_id": str(theirs["client"].id)}

    refused(owner_client, f"{base}/invoices/new", data, "Not a valid choice.")


def test_choosing_no_client_is_refused(owner_client, base, client):
    refused(owner_client, f"{base}/invoices/new", {}, "Choose a client.")


def test_a_huge_invoice_id_answers_404(owner_client, base):
    response = owner_client.get(f"{base}/invoices/99999999999999999999")

    assert response.status_code == 404


def test_a_huge_client_filter_answers_404(owner_client, base):
    response = owner_client.get(f"{base}/invoices?client_id=99999999999999999999")

    assert response.status_code == 404


# --- another workspace's ids ----------------------------------------------------


def billing_rules(app):
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("clientflow.billing.")
            and set(rule.arguments) - {"workspace"}
        ),
        key=lambda rule: rule.rule,
    )


def their_url(rule, slug, theirs, state):
    invoice = theirs[state]
    values = {
        "workspace": slug,
        "invoice_id": invoice.id,
        "line_id": invoice.lines[0].id,
        "rate_id": theirs["rate"],
    }
    return rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]


@pytest.mark.parametrize("state", ["draft", "issued"])
def test_ids_of_another_workspace_answer_404_and_change_nothing(
    app, owner_client, workspace, theirs, state
):
    rules = billing_rules(app)
    before = snapshot()

    for rule in rules:
        url = their_url(rule, workspace.slug, theirs, state)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {**GOOD_LINE, **GOOD_PAYMENT, "reason": "x", "name": "x"}
            response = owner_client.open(url, method=method, data=data)
            assert response.status_code == 404, (method, url)

    assert len(rules) >= 12
    assert snapshot() == before


def test_a_line_of_another_invoice_answers_404(owner_client, base, a_draft, theirs):
    url = f"{base}/invoices/{a_draft.id}/lines/{theirs['draft'].lines[0].id}"

    response = owner_client.post(url, data=GOOD_LINE)

    assert response.status_code == 404


def test_payments_dated_before_1990_are_refused(owner_client, base, an_issued):
    data = {**GOOD_PAYMENT, "paid_on": "1989-12-31"}

    refused(
        owner_client,
        f"{base}/invoices/{an_issued.id}/payments",
        data,
        f"Enter a date between 1990-01-01 and {date(2100, 12, 31).isoformat()}.",
    )
