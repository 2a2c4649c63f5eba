"""Writing an import: one transaction, history kept as it was, nothing twice."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from clientflow_plugin import imports, invoices
from clientflow_plugin.models import (
    AuditEvent,
    Client,
    Invoice,
    InvoiceLine,
    InvoiceTax,
    NumberSequence,
    Payment,
)
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
    run_import,
    uploads,
)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def imported(workspace, number: str) -> Invoice:
    return db.session.scalar(
        sa.select(Invoice).where(
            Invoice.workspace_id == workspace.id, Invoice.number == number
        )
    )


def test_the_example_files_import_whole(workspace):
    run_import(workspace, example_uploads())

    assert (count(Client), count(Invoice), count(InvoiceLine), count(Payment)) == (
        6,
        8,
        12,
        6,
    )


def test_imported_invoices_keep_their_numbers_and_dates_in_their_own_series(
    workspace,
):
    run_import(workspace, example_uploads())

    invoice = imported(workspace, "2024/003")
    assert (invoice.series, invoice.state) == ("import", "issued")
    assert (invoice.issue_date, invoice.due_date) == (
        date(2024, 2, 20),
        date(2024, 3, 21),
    )
    assert invoice.external_id == "FAC-2024-003"


def test_imported_totals_are_recomputed_by_the_money_rules(workspace):
    run_import(workspace, example_uploads())

    invoice = imported(workspace, "2024/001")
    taxes = [(t.name, t.base_minor, t.amount_minor) for t in invoice.taxes]
    assert (invoice.subtotal_minor, invoice.tax_minor) == (114250, 23993)
    assert invoice.total_minor == 138243
    assert taxes == [("IVA 21%", 114250, 23993)]
    assert [line.net_minor for line in invoice.lines] == [85000, 29250]
    assert [r.name for r in invoice.lines[0].tax_rates] == ["IVA 21%"]


def test_a_void_invoice_in_the_file_is_imported_void(workspace):
    run_import(workspace, example_uploads())

    invoice = imported(workspace, "2024/005")
    assert invoice.state == "void"
    assert invoices.status_of(invoice, date(2025, 1, 1)) == "void"


def test_imported_payments_make_the_derived_status(workspace):
    run_import(workspace, example_uploads())

    statuses = {
        number: invoices.status_of(imported(workspace, number), date(2024, 5, 20))
        for number in ("2024/001", "2024/006", "2024/007", "2024/008")
    }
    assert statuses == {
        "2024/001": "paid",
        "2024/006": "overdue",
        "2024/007": "overdue",
        "2024/008": "pending",
    }
    assert invoices.balance_minor(imported(workspace, "2024/007")) == 107


def test_the_workspace_sequence_does_not_move(workspace):
    run_import(workspace, example_uploads())

    assert count(NumberSequence) == 0


def test_an_own_invoice_may_carry_an_imported_number(workspace):
    run_import(workspace, example_uploads())
    client_id = imported(workspace, "2024/001").client_id

    db.session.add(
        Invoice(
            workspace_id=workspace.id,
            client_id=client_id,
            state="issued",
            number="2024/001",
            series="own",
            currency="EUR",
            issue_date=date(2026, 1, 15),
        )
    )
    db.session.commit()

    assert count(Invoice) == 9


def test_the_first_own_invoice_after_an_import_is_number_one(workspace):
    run_import(workspace, example_uploads())
    client = imported(workspace, "2024/001").client
    draft = invoices.create_draft(workspace, client)
    invoices.add_line(
        draft, invoices.LineData(description="Web", unit_price_minor=10000)
    )

    invoices.issue(draft, actor_id=None, today=date(2026, 3, 1))
    db.session.commit()

    assert draft.number == "2026-0001"
    assert draft.series == "own"


def test_each_imported_invoice_is_in_the_audit_trail(workspace, owner):
    plan = check(workspace, example_uploads())

    imports.apply(db.session, workspace, plan, user_id=owner.id)

    events = db.session.execute(
        sa.select(AuditEvent.kind, AuditEvent.user_id, AuditEvent.detail)
        .order_by(AuditEvent.id)
        .limit(2)
    ).all()
    assert count(AuditEvent) == 8
    assert events == [
        ("invoice_imported", owner.id, "2024/001"),
        ("invoice_imported", owner.id, "2024/002"),
    ]


# -- twice ---------------------------------------------------------------------


def test_a_second_import_of_the_same_files_creates_nothing(workspace):
    run_import(workspace, example_uploads())

    plan = run_import(workspace, example_uploads())

    assert plan.counts() == {"clients": 0, "invoices": 0, "lines": 0, "payments": 0}
    assert (count(Client), count(Invoice), count(Payment)) == (6, 8, 6)


def test_a_second_import_says_what_it_skipped(workspace):
    run_import(workspace, example_uploads())

    plan = check(workspace, example_uploads())

    assert plan.skipped_messages() == [
        "6 clients already imported, skipped",
        "8 invoices already imported, skipped",
        "6 payments already imported, skipped",
    ]


def test_a_later_file_with_one_more_payment_adds_only_that_payment(workspace):
    clients = csv_bytes(CLIENT_HEADER, [client_row()])
    invoice_file = csv_bytes(INVOICE_HEADER, [invoice_row()])
    first = [payment_row(amount="21.00")]
    run_import(
        workspace, uploads(clients, invoice_file, csv_bytes(PAYMENT_HEADER, first))
    )
    later = first + [payment_row(amount="100.00", date="2024-03-01")]

    plan = run_import(
        workspace, uploads(clients, invoice_file, csv_bytes(PAYMENT_HEADER, later))
    )

    assert plan.counts()["payments"] == 1
    assert plan.skipped == {"clients": 1, "invoices": 1, "payments": 1}
    assert db.session.scalar(sa.select(sa.func.sum(Payment.amount_minor))) == 12100


def test_two_equal_payments_of_one_invoice_are_both_kept(workspace):
    payment_file = csv_bytes(
        PAYMENT_HEADER, [payment_row(amount="50.00"), payment_row(amount="50.00")]
    )
    files = uploads(
        csv_bytes(CLIENT_HEADER, [client_row()]),
        csv_bytes(INVOICE_HEADER, [invoice_row()]),
        payment_file,
    )

    run_import(workspace, files)
    again = check(workspace, files)

    assert count(Payment) == 2
    assert again.skipped["payments"] == 2


def test_external_ids_of_another_workspace_do_not_count(workspace, make_workspace):
    other = make_workspace()
    run_import(other, example_uploads())

    plan = check(workspace, example_uploads())

    assert plan.counts()["invoices"] == 8
    assert plan.skipped == {"clients": 0, "invoices": 0, "payments": 0}


# -- all or nothing ------------------------------------------------------------


def test_a_failure_while_writing_leaves_nothing(workspace, monkeypatch):
    plan = check(workspace, example_uploads())

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports, "_insert_payments", broken)
    with pytest.raises(RuntimeError):
        imports.apply(db.session, workspace, plan)

    assert (count(Client), count(Invoice), count(InvoiceLine), count(InvoiceTax)) == (
        0,
        0,
        0,
        0,
    )


def test_rows_written_meanwhile_by_another_import_roll_everything_back(workspace):
    plan = check(workspace, example_uploads())
    db.session.add(
        Client(workspace_id=workspace.id, name="Rival", external_id="CLI-003")
    )
    db.session.commit()

    with pytest.raises(imports.ImportConflict):
        imports.apply(db.session, workspace, plan)

    assert (count(Client), count(Invoice)) == (1, 0)


def test_a_plan_with_problems_cannot_be_applied(workspace):
    plan = check(
        workspace, uploads(invoices=csv_bytes(INVOICE_HEADER, [invoice_row()]))
    )

    with pytest.raises(ValueError, match="problems"):
        imports.apply(db.session, workspace, plan)


# -- what is stored ------------------------------------------------------------

TRICKY = [
    "<script>alert('x')</script>",
    '=HYPERLINK("http://evil.example","clic")',
    "+34 600 000 000",
    "-2+3",
    "@SUM(A1:A9)",
]


@pytest.mark.parametrize("text", TRICKY)
def test_markup_and_formula_like_names_are_stored_as_text(workspace, text):
    data = csv_bytes(CLIENT_HEADER, [client_row("C1", text, company=text)])

    run_import(workspace, uploads(clients=data))

    stored = db.session.execute(sa.select(Client.name, Client.company)).one()
    assert tuple(stored) == (text, text)


def test_billing_details_are_encrypted_at_rest(workspace):
    run_import(workspace, example_uploads())

    raw = db.session.execute(
        sa.text("select tax_id, name from clientflow_clients order by id limit 1")
    ).one()
    assert raw.name == "Laura Gómez"
    assert "B12345674" not in raw.tax_id
    assert db.session.scalar(sa.select(Client.tax_id).limit(1)) == "B12345674"


def test_payment_references_are_encrypted_at_rest(workspace):
    run_import(workspace, example_uploads())

    raw = db.session.scalar(sa.text("select reference from clientflow_payments"))
    assert "Panadería" not in raw
    assert db.session.scalar(sa.select(Payment.reference).limit(1)) == (
        "TRF 2024-02-10 Panadería La Espiga"
    )
