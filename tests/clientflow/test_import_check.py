"""The dry run: what an import would create, and every problem with its place."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from clientflow_plugin import imports
from clientflow_plugin import invoices as invoices_domain
from clientflow_plugin.invoices import PAYMENT_METHODS
from clientflow_plugin.models import Client
from clientflow_plugin.spreadsheets import COMMA
from host_stub.extensions import db
from tests.clientflow.importing import (
    CLIENT_HEADER,
    INVOICE_HEADER,
    PAYMENT_HEADER,
    check,
    client_row,
    csv_bytes,
    example_uploads,
    invoice_row,
    payment_row,
    problems_of,
    run_import,
    uploads,
)

CLIENTS = csv_bytes(CLIENT_HEADER, [client_row("C1"), client_row("C2", "Jordi")])


def invoices(*rows: list[str]) -> bytes:
    return csv_bytes(INVOICE_HEADER, list(rows))


def payments(*rows: list[str]) -> bytes:
    return csv_bytes(PAYMENT_HEADER, list(rows))


def plan_for(workspace, invoice_rows, payment_rows=None, **options):
    files = uploads(
        clients=CLIENTS,
        invoices=invoices(*invoice_rows),
        payments=payments(*payment_rows) if payment_rows is not None else None,
    )
    return check(workspace, files, **options)


# -- what would be created ---------------------------------------------------


def test_the_example_files_check_clean_with_their_counts(workspace):
    plan = check(workspace, example_uploads())

    assert plan.problems == []
    assert plan.counts() == {"clients": 6, "invoices": 8, "lines": 12, "payments": 6}


def test_the_dry_run_shows_the_first_rows_of_each_kind(workspace):
    plan = check(workspace, example_uploads())

    preview = plan.preview()
    assert len(preview["clients"]) == 5
    assert preview["invoices"][0]["number"] == "2024/001"
    assert preview["invoices"][0]["client"] == "Laura Gómez"
    assert preview["invoices"][0]["total_minor"] == 138243
    assert preview["payments"][0]["invoice"] == "2024/001"


# -- the money rules (cases C-01 to C-04) ------------------------------------


def test_an_invoice_discount_comes_off_before_tax(workspace):
    rows = [
        invoice_row(quantity="3", unit_price="45,00", stated_total="90,75"),
    ]
    header = INVOICE_HEADER + ["invoice discount"]
    data = csv_bytes(header, [rows[0] + ["60,00"]], delimiter=";")

    plan = check(workspace, uploads(clients=CLIENTS, invoices=data))

    breakdown = plan.invoices[0].breakdown
    assert plan.problems == []
    assert (breakdown.subtotal_minor, breakdown.tax_minor) == (7500, 1575)
    assert breakdown.total_minor == 9075


def test_a_line_discount_is_rounded_once_and_the_parts_add_up(workspace):
    header = INVOICE_HEADER + ["line discount %"]
    row = invoice_row(unit_price="57.48", stated_total="62.59") + ["10"]

    plan = check(workspace, uploads(clients=CLIENTS, invoices=csv_bytes(header, [row])))

    breakdown = plan.invoices[0].breakdown
    assert plan.problems == []
    assert (breakdown.subtotal_minor, breakdown.tax_minor) == (5173, 1086)
    assert breakdown.total_minor == 5173 + 1086 == 6259


def test_tax_is_computed_per_rate_on_the_sum_of_its_lines(workspace):
    rows = [
        invoice_row(unit_price="40.00", tax_rates="IVA 21%;IRPF -15%"),
        invoice_row(unit_price="40.00", tax_rates="IVA 21%", stated_total="90.80"),
    ]

    plan = plan_for(workspace, rows)

    taxes = {t.rate.name: t.amount_minor for t in plan.invoices[0].breakdown.taxes}
    assert plan.problems == []
    assert taxes == {"IVA 21%": 1680, "IRPF -15%": -600}
    assert plan.invoices[0].breakdown.total_minor == 9080


def test_yen_amounts_have_no_decimals(make_workspace):
    workspace = make_workspace(currency="JPY")
    rows = [invoice_row(unit_price="100", tax_rates="", stated_total="¥100")]

    plan = plan_for(workspace, rows)

    assert plan.problems == []
    assert plan.invoices[0].breakdown.total_minor == 100


def test_hours_with_fractions_are_billed_as_shown(workspace):
    rows = [invoice_row(line_kind="horas", quantity="7,25", unit_price="55,00")]

    plan = plan_for(workspace, rows)

    line = plan.invoices[0].lines[0]
    assert (line.kind, line.quantity, line.net_minor) == (
        "hours",
        Decimal("7.25"),
        39875,
    )


# -- problems, each with its file, line and column ---------------------------


def test_a_stated_total_that_disagrees_is_reported_with_both_figures(workspace):
    rows = [invoice_row(unit_price="100.00", stated_total="121.01")]

    plan = plan_for(workspace, rows)

    assert problems_of(plan) == [("invoices.csv", 2, "stated total (K)")]
    assert "€121.01" in plan.problems[0].message
    assert "€121.00" in plan.problems[0].message


def test_an_unknown_client_external_id_is_reported(workspace):
    plan = plan_for(workspace, [invoice_row(client="C9")])

    assert problems_of(plan) == [("invoices.csv", 2, "client external id (C)")]
    assert "“C9”" in plan.problems[0].message


def test_an_unknown_tax_rate_is_reported_with_the_known_ones(workspace):
    plan = plan_for(workspace, [invoice_row(tax_rates="IVA 22%")])

    assert problems_of(plan) == [("invoices.csv", 2, "tax rates (J)")]
    assert "“IVA 22%”" in plan.problems[0].message
    assert "(it has: IGIC 7%, IRPF -15%, IVA 16%, IVA 21%, VAT 0%" in (
        plan.problems[0].message
    )


def test_tax_rate_names_match_without_case_or_spaces(workspace):
    plan = plan_for(workspace, [invoice_row(tax_rates="iva 21 % | IRPF  -15%")])

    assert plan.problems == []
    assert len(plan.invoices[0].lines[0].rate_ids) == 2


@pytest.mark.parametrize(("currency", "price"), [("EUR", "0,005"), ("JPY", "100.5")])
def test_amounts_with_more_decimals_than_the_currency_are_reported(
    make_workspace, currency, price
):
    workspace = make_workspace(currency=currency)

    plan = plan_for(workspace, [invoice_row(unit_price=price, tax_rates="")])

    assert problems_of(plan) == [("invoices.csv", 2, "unit price (I)")]
    assert "more decimals" in plan.problems[0].message


def test_a_bad_date_is_reported(workspace):
    plan = plan_for(workspace, [invoice_row(issue_date="31/02/2024")])

    assert problems_of(plan) == [("invoices.csv", 2, "issue date (D)")]


def test_a_currency_other_than_the_workspace_one_is_reported(workspace):
    header = INVOICE_HEADER + ["currency"]
    data = csv_bytes(header, [invoice_row() + ["USD"]])

    plan = check(workspace, uploads(clients=CLIENTS, invoices=data))

    assert problems_of(plan) == [("invoices.csv", 2, "currency (L)")]
    assert "USD" in plan.problems[0].message


def test_payments_above_the_invoice_total_are_reported_on_the_payment_row(workspace):
    rows = [invoice_row(unit_price="100.00")]
    paid = [
        payment_row(amount="100.00"),
        payment_row(amount="21.01", date="2024-03-01"),
    ]

    plan = plan_for(workspace, rows, paid)

    assert problems_of(plan) == [("payments.csv", 3, "amount (C)")]
    assert "€121.01" in plan.problems[0].message
    assert "€121.00" in plan.problems[0].message


def test_payments_already_stored_count_towards_the_total(workspace):
    run_import(
        workspace,
        uploads(CLIENTS, invoices(invoice_row()), payments(payment_row(amount="100"))),
    )

    plan = plan_for(
        workspace, [invoice_row()], [payment_row(amount="30", date="3/3/24")]
    )

    assert problems_of(plan) == [("payments.csv", 2, "amount (C)")]


def test_duplicate_numbers_within_the_file_are_reported(workspace):
    rows = [invoice_row("F1", "2024/001"), invoice_row("F2", "2024/001")]

    plan = plan_for(workspace, rows)

    assert problems_of(plan) == [("invoices.csv", 3, "number (B)")]
    assert "line 2" in plan.problems[0].message


def test_a_number_imported_before_for_another_invoice_is_reported(workspace):
    run_import(workspace, uploads(CLIENTS, invoices(invoice_row("F1", "A-7"))))

    plan = plan_for(workspace, [invoice_row("F2", "A-7")])

    assert problems_of(plan) == [("invoices.csv", 2, "number (B)")]


def test_rows_of_one_invoice_that_disagree_are_reported(workspace):
    rows = [invoice_row(issue_date="2024-01-15"), invoice_row(issue_date="16/01/2024")]

    plan = plan_for(workspace, rows)

    assert problems_of(plan) == [("invoices.csv", 3, "issue date (D)")]


def test_rows_of_one_invoice_may_leave_its_values_empty_after_the_first(workspace):
    first = invoice_row()
    second = ["F1", "", "", "", "", "product", "Dominio", "1", "12.00", "IVA 21%", ""]

    plan = plan_for(workspace, [first, second])

    assert plan.problems == []
    assert len(plan.invoices[0].lines) == 2


def test_duplicate_client_external_ids_are_reported(workspace):
    data = csv_bytes(CLIENT_HEADER, [client_row("C1"), client_row("C1", "Otra")])

    plan = check(workspace, uploads(clients=data))

    assert problems_of(plan) == [("clients.csv", 3, "external id (A)")]


def test_an_ambiguous_amount_is_reported_where_it_stands(workspace):
    plan = plan_for(workspace, [invoice_row(unit_price="1.500")])

    assert problems_of(plan) == [("invoices.csv", 2, "unit price (I)")]
    assert "1.5 or 1500" in plan.problems[0].message


def test_a_declared_decimal_comma_reads_ambiguous_amounts(workspace):
    plan = plan_for(workspace, [invoice_row(unit_price="1.500")], decimal=COMMA)

    assert plan.problems == []
    assert plan.invoices[0].lines[0].unit_price_minor == 150000


def test_a_payment_on_a_void_invoice_is_reported(workspace):
    header = INVOICE_HEADER + ["state"]
    data = csv_bytes(header, [invoice_row() + ["anulada"]])

    plan = check(
        workspace, uploads(CLIENTS, data, payments(payment_row(amount="1.00")))
    )

    assert problems_of(plan) == [("payments.csv", 2, "invoice external id (A)")]


def test_a_payment_for_a_draft_with_that_external_id_is_reported(workspace):
    run_import(workspace, uploads(clients=CLIENTS))
    client = db.session.scalar(sa.select(Client).where(Client.external_id == "C1"))
    draft = invoices_domain.create_draft(workspace, client)
    draft.external_id = "D1"
    db.session.commit()

    plan = check(
        workspace, uploads(payments=payments(payment_row(invoice="D1", amount="1")))
    )

    assert problems_of(plan) == [("payments.csv", 2, "invoice external id (A)")]
    assert "is a draft" in plan.problems[0].message


def test_a_payment_for_an_unknown_invoice_is_reported(workspace):
    plan = plan_for(workspace, [invoice_row()], [payment_row(invoice="F404")])

    assert problems_of(plan) == [("payments.csv", 2, "invoice external id (A)")]


def test_an_invoice_discount_above_the_lines_is_reported(workspace):
    header = INVOICE_HEADER + ["invoice discount"]
    data = csv_bytes(header, [invoice_row(unit_price="50.00") + ["60.00"]])

    plan = check(workspace, uploads(clients=CLIENTS, invoices=data))

    assert problems_of(plan) == [("invoices.csv", 2, "invoice discount (L)")]


def test_a_due_date_before_the_issue_date_is_reported(workspace):
    plan = plan_for(workspace, [invoice_row(due_date="2024-01-01")])

    assert problems_of(plan) == [("invoices.csv", 2, "due date (E)")]


def test_an_empty_due_date_follows_the_payment_terms(workspace):
    plan = plan_for(workspace, [invoice_row(issue_date="2024-01-15", due_date="")])

    assert plan.invoices[0].due_date.isoformat() == "2024-02-14"


@pytest.mark.parametrize(
    ("field", "value", "column"),
    [
        ("quantity", "0", "quantity (H)"),
        ("quantity", "-2", "quantity (H)"),
        ("quantity", "1,00005", "quantity (H)"),
        ("unit_price", "-10.00", "unit price (I)"),
        ("description", "", "description (G)"),
    ],
)
def test_lines_follow_the_rules_of_invoices_typed_by_hand(
    workspace, field, value, column
):
    plan = plan_for(workspace, [invoice_row(**{field: value})])

    assert problems_of(plan) == [("invoices.csv", 2, column)]


def test_an_issue_date_later_than_today_is_reported(workspace):
    plan = plan_for(workspace, [invoice_row(issue_date="2099-01-01", due_date="")])

    assert problems_of(plan) == [("invoices.csv", 2, "issue date (D)")]


def test_a_payment_date_later_than_today_is_reported(workspace):
    plan = plan_for(workspace, [invoice_row()], [payment_row(date="1/1/2099")])

    assert problems_of(plan) == [("payments.csv", 2, "date (B)")]


def test_an_invoice_of_more_lines_than_billing_allows_is_reported(workspace):
    rows = [invoice_row() for _ in range(201)]

    plan = plan_for(workspace, rows)

    assert problems_of(plan) == [("invoices.csv", 202, "invoice external id (A)")]


def test_an_empty_required_cell_is_reported(workspace):
    data = csv_bytes(CLIENT_HEADER, [client_row("C1", "")])

    plan = check(workspace, uploads(clients=data))

    assert problems_of(plan) == [("clients.csv", 2, "name (B)")]


def test_a_row_with_more_cells_than_the_header_is_reported(workspace):
    data = b"id;nombre\r\nC1;Laura;Madrid\r\n"

    plan = check(workspace, uploads(clients=data))

    assert problems_of(plan) == [("clients.csv", 2, "C")]


def test_every_problem_of_the_files_is_listed_not_just_the_first(workspace):
    rows = [
        invoice_row("F1", client="C9"),
        invoice_row("F2", "2024/002", issue_date="ayer"),
        invoice_row("F3", "2024/003", unit_price="x"),
    ]

    plan = plan_for(workspace, rows, [payment_row(invoice="F404")])

    assert [p.line for p in plan.problems] == [2, 3, 4, 2]


def test_an_unknown_payment_method_is_kept_as_other_with_a_note(workspace):
    paid = [payment_row(amount="10", method="Bizum")]

    plan = plan_for(workspace, [invoice_row()], paid)

    assert plan.problems == []
    assert plan.payments[0].method == "other"
    assert plan.notices == [
        "payments.csv: the payment method “Bizum” is recorded as “other”."
    ]


@pytest.mark.parametrize(
    ("word", "method"),
    [
        ("Transferencia", "transfer"),
        ("tarjeta", "card"),
        ("Efectivo", "cash"),
        ("Domiciliación", "direct_debit"),
        ("cheque", "cheque"),
    ],
)
def test_spanish_payment_methods_are_billing_methods(workspace, word, method):
    plan = plan_for(workspace, [invoice_row()], [payment_row(amount="10", method=word)])

    assert plan.payments[0].method == method


def test_every_method_word_names_a_billing_method():
    assert set(imports.METHOD_WORDS) == set(PAYMENT_METHODS)


def test_references_into_an_unreadable_file_are_not_reported_one_by_one(workspace):
    broken_clients = b"PK\x03\x04" + b"\x00" * 40
    rows = [invoice_row("F1"), invoice_row("F2", "2024/002")]
    files = uploads(broken_clients, invoices(*rows))

    plan = check(workspace, files)

    assert problems_of(plan) == [("clients.csv", 0, "")]


@pytest.mark.parametrize(
    ("name", "column"),
    [("Laura\nGómez", "name (B)"), ("Laura\x07", "name (B)")],
)
def test_control_characters_in_one_line_fields_are_reported(workspace, name, column):
    data = csv_bytes(CLIENT_HEADER, [client_row("C1", name)])

    plan = check(workspace, uploads(clients=data))

    assert problems_of(plan) == [("clients.csv", 2, column)]


def test_line_breaks_are_kept_in_addresses(workspace):
    data = csv_bytes(
        ["id", "nombre", "dirección de facturación"],
        [["C1", "Laura", "Calle Mayor 1\n28013 Madrid"]],
    )

    plan = check(workspace, uploads(clients=data))

    assert plan.problems == []
    assert plan.clients[0]["billing_address"] == "Calle Mayor 1\n28013 Madrid"
