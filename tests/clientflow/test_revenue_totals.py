"""The revenue totals kept by triggers agree with the invoices and payments.

Whatever writes the books — the billing functions, bulk inserts, plain SQL
updates, several threads at once, a workspace being deleted — the kept sums
per day, per client and month and per client must equal the sums recomputed
from the books. ``make test`` runs these on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import select

from clientflow_plugin import invoices as domain
from clientflow_plugin import revenue_totals
from clientflow_plugin.models import (
    ClientRevenue,
    ClientRevenueMonth,
    Invoice,
    Payment,
    RevenueDay,
)
from host_stub.extensions import db
from host_stub.models import Workspace
from tests.clientflow.billing_factories import issued_invoice, line, new_client
from tests.clientflow.dashboard_factories import Books
from tests.clientflow.test_invoices_concurrency import run_together

DAY = date(2026, 3, 2)


def day_row(workspace, day: date) -> tuple[int, int, int] | None:
    row = db.session.get(RevenueDay, (workspace.id, workspace.currency, day))
    if row is None:
        return None
    return row.invoiced_minor, row.collected_minor, row.issued_count


def client_total(workspace, client) -> tuple[int, int, int]:
    row = db.session.get(ClientRevenue, (workspace.id, workspace.currency, client.id))
    return (row.invoiced_minor, row.collected_minor, row.issued_count)


def assert_in_agreement() -> None:
    db.session.expire_all()
    assert revenue_totals.differences(db.session) == []


def test_issuing_paying_and_voiding_move_the_kept_sums(app, workspace):
    client = new_client(workspace)
    draft = domain.create_draft(workspace, client, lines=[line(10000)], issue_date=DAY)
    db.session.commit()
    assert day_row(workspace, DAY) is None  # drafts do not count

    domain.issue(draft, actor_id=None, today=DAY)
    db.session.commit()
    total = draft.total_minor
    assert day_row(workspace, DAY) == (total, 0, 1)

    paid_on = DAY + timedelta(days=3)
    domain.record_payment(draft, amount_minor=4000, paid_on=paid_on, today=paid_on)
    db.session.commit()
    assert day_row(workspace, paid_on) == (0, 4000, 0)
    assert client_total(workspace, client) == (total, 4000, 1)
    month = db.session.get(
        ClientRevenueMonth, (workspace.id, "EUR", date(2026, 3, 1), client.id)
    )
    assert (month.invoiced_minor, month.collected_minor) == (total, 4000)

    other = issued_invoice(workspace, client)
    domain.void(other, reason="Wrong client", actor_id=None)
    db.session.commit()
    assert client_total(workspace, client) == (total, 4000, 1)
    assert_in_agreement()


def test_a_rolled_back_payment_leaves_the_sums_alone(app, workspace):
    invoice = issued_invoice(workspace, new_client(workspace))
    before = revenue_totals.differences(db.session)
    domain.record_payment(invoice, amount_minor=100, paid_on=DAY, today=DAY)
    db.session.rollback()

    assert before == []
    assert day_row(workspace, DAY) in (None, (invoice.total_minor, 0, 1))
    assert_in_agreement()


def test_plain_sql_changes_are_followed(app, workspace):
    books = Books(workspace)
    first, second = books.client("Ana"), books.client("Bea")
    invoice = books.paid_invoice(first, 50_000, DAY, DAY + timedelta(days=1))
    books.payment(books.invoice(second, 7_000, DAY), 2_000, DAY)
    assert_in_agreement()

    # Moving the invoice to another client carries its payment along.
    db.session.execute(
        sa.update(Invoice).where(Invoice.id == invoice.id).values(client_id=second.id)
    )
    db.session.commit()
    assert client_total(workspace, first) == (0, 0, 0)
    assert client_total(workspace, second) == (57_000, 52_000, 2)

    # Voided: the invoice and its payment leave every sum.
    db.session.execute(
        sa.update(Invoice).where(Invoice.id == invoice.id).values(state="void")
    )
    db.session.commit()
    assert client_total(workspace, second) == (7_000, 2_000, 1)
    assert day_row(workspace, DAY + timedelta(days=1)) == (0, 0, 0)

    # Setting a column to itself (how billing locks an invoice) changes nothing.
    db.session.execute(sa.update(Invoice).values(state=Invoice.state))
    db.session.execute(sa.update(Payment).values(amount_minor=Payment.amount_minor))
    db.session.commit()
    assert_in_agreement()


def test_any_sequence_of_writes_keeps_the_sums_right(app, make_workspace):
    """Random inserts, updates and deletes of invoices and payments in two
    workspaces and two currencies; the kept sums must match after each batch."""
    rng = random.Random(20261204)
    workspaces = [make_workspace(), make_workspace()]
    clients = {
        w.id: [Books(w).client(f"Client {n}") for n in range(3)] for w in workspaces
    }
    invoice_ids: list[int] = []
    payment_ids: list[int] = []

    for step in range(240):
        action = rng.choice(
            ["invoice", "invoice", "pay", "pay", "state", "move", "repay", "unpay"]
        )
        if action == "invoice" or not invoice_ids:
            workspace = rng.choice(workspaces)
            state = rng.choice(["draft", "issued", "issued", "void"])
            invoice = Invoice(
                workspace_id=workspace.id,
                client_id=rng.choice(clients[workspace.id]).id,
                state=state,
                currency=rng.choice(["EUR", "EUR", "USD"]),
                number=f"R-{step}",
                issue_date=DAY + timedelta(days=rng.randrange(90)),
                due_date=rng.choice([None, DAY + timedelta(days=rng.randrange(120))]),
                total_minor=rng.randrange(1, 10**7),
            )
            db.session.add(invoice)
            db.session.flush()
            invoice_ids.append(invoice.id)
        elif action == "pay":
            invoice = db.session.get(Invoice, rng.choice(invoice_ids))
            payment = Payment(
                workspace_id=invoice.workspace_id,
                invoice_id=invoice.id,
                paid_on=DAY + timedelta(days=rng.randrange(120)),
                amount_minor=rng.randrange(1, 10**6),
            )
            db.session.add(payment)
            db.session.flush()
            payment_ids.append(payment.id)
        elif action == "state":
            db.session.execute(
                sa.update(Invoice)
                .where(Invoice.id == rng.choice(invoice_ids))
                .values(
                    state=rng.choice(["draft", "issued", "void"]),
                    total_minor=rng.randrange(1, 10**7),
                )
            )
        elif action == "move":
            invoice = db.session.get(Invoice, rng.choice(invoice_ids))
            db.session.execute(
                sa.update(Invoice)
                .where(Invoice.id == invoice.id)
                .values(
                    client_id=rng.choice(clients[invoice.workspace_id]).id,
                    issue_date=DAY + timedelta(days=rng.randrange(400)),
                    due_date=rng.choice(
                        [None, DAY + timedelta(days=rng.randrange(400))]
                    ),
                    currency=rng.choice(["EUR", "USD"]),
                )
            )
        elif action == "repay" and payment_ids:
            db.session.execute(
                sa.update(Payment)
                .where(Payment.id == rng.choice(payment_ids))
                .values(
                    paid_on=DAY + timedelta(days=rng.randrange(400)),
                    amount_minor=rng.randrange(1, 10**6),
                )
            )
        elif action == "unpay" and payment_ids:
            gone = payment_ids.pop(rng.randrange(len(payment_ids)))
            db.session.execute(sa.delete(Payment).where(Payment.id == gone))
        if step % 60 == 59:
            db.session.commit()
            assert_in_agreement()

    kept = db.session.scalar(select(sa.func.count()).select_from(RevenueDay))
    assert kept > 0


def test_due_and_due_paid_follow_the_due_date(app, workspace):
    books = Books(workspace)
    due = DAY + timedelta(days=30)
    invoice = books.invoice(books.client(), 9_000, DAY, due=due)
    books.payment(invoice, 4_000, DAY + timedelta(days=40))

    row = db.session.get(RevenueDay, (workspace.id, "EUR", due))
    assert (row.due_minor, row.due_paid_minor) == (9_000, 4_000)

    later = due + timedelta(days=15)
    db.session.execute(
        sa.update(Invoice).where(Invoice.id == invoice.id).values(due_date=later)
    )
    db.session.commit()
    db.session.expire_all()
    moved = db.session.get(RevenueDay, (workspace.id, "EUR", later))
    assert (moved.due_minor, moved.due_paid_minor) == (9_000, 4_000)
    emptied = db.session.get(RevenueDay, (workspace.id, "EUR", due))
    assert (emptied.due_minor, emptied.due_paid_minor) == (0, 0)
    assert_in_agreement()


def test_payments_recorded_together_all_count(app, workspace):
    invoices = [issued_invoice(workspace, new_client(workspace)) for _ in range(6)]
    ids = [invoice.id for invoice in invoices]

    def pay(invoice_id):
        def job():
            target = db.session.get(Invoice, invoice_id)
            domain.record_payment(target, amount_minor=2500, paid_on=DAY, today=DAY)
            db.session.commit()

        return job

    errors = run_together(app, [pay(invoice_id) for invoice_id in ids])

    assert errors == []
    db.session.expire_all()
    assert day_row(workspace, DAY)[1] == 6 * 2500
    assert_in_agreement()


def test_deleting_a_workspace_takes_its_sums_along(app, make_workspace):
    workspace = make_workspace()
    books = Books(workspace)
    books.paid_invoice(books.client(), 10_000, DAY, DAY)
    workspace_id = workspace.id

    db.session.execute(sa.delete(Workspace).where(Workspace.id == workspace_id))
    db.session.commit()

    for model in (RevenueDay, ClientRevenueMonth, ClientRevenue):
        left = db.session.scalar(
            select(sa.func.count())
            .select_from(model)
            .where(model.workspace_id == workspace_id)
        )
        assert left == 0, model.__tablename__


def test_check_totals_finds_and_repairs_a_difference(app, workspace):
    books = Books(workspace)
    books.paid_invoice(books.client(), 10_000, DAY, DAY)
    runner = app.test_cli_runner()

    fine = runner.invoke(args=["clientflow", "check-totals"])
    assert fine.exit_code == 0, fine.output
    assert "agree" in fine.output

    db.session.execute(
        sa.update(RevenueDay)
        .where(RevenueDay.workspace_id == workspace.id)
        .values(collected_minor=1)
    )
    db.session.commit()
    found = runner.invoke(
        args=["clientflow", "check-totals", "--workspace", workspace.slug]
    )
    assert found.exit_code == 1
    assert "clientflow_revenue_days" in found.output
    assert "books say (10000, 10000, 1, 0, 0)" in found.output

    repaired = runner.invoke(args=["clientflow", "check-totals", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "repaired" in repaired.output
    assert day_row(workspace, DAY) == (10_000, 10_000, 1)
    assert_in_agreement()


def test_an_unknown_workspace_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(
        args=["clientflow", "check-totals", "--workspace", "nope"]
    )
    assert result.exit_code != 0
    assert "no workspace 'nope'" in result.output


def test_an_issued_invoice_without_an_issue_date_is_refused(app, workspace):
    client = Books(workspace).client()
    db.session.add(
        Invoice(
            workspace_id=workspace.id,
            client_id=client.id,
            state="issued",
            currency="EUR",
            number="X-1",
            total_minor=100,
        )
    )
    try:
        db.session.commit()
    except sa.exc.IntegrityError as error:
        db.session.rollback()
        assert "an issued invoice needs an issue date" in str(error)
    else:
        raise AssertionError("an issued invoice without an issue date was stored")


def test_check_totals_finds_and_repairs_a_wrong_paid_amount(app, workspace):
    books = Books(workspace)
    invoice = books.paid_invoice(books.client(), 10_000, DAY, DAY)
    db.session.execute(
        sa.update(Invoice).where(Invoice.id == invoice.id).values(paid_minor=3)
    )
    db.session.commit()
    runner = app.test_cli_runner()

    found = runner.invoke(args=["clientflow", "check-totals"])
    assert found.exit_code == 1
    assert f"clientflow_invoices.paid_minor ({invoice.id},): kept (3,)" in found.output

    repaired = runner.invoke(args=["clientflow", "check-totals", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).paid_minor == 10_000
    assert_in_agreement()
