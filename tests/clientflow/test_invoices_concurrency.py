"""Issuing and paying from several threads at once, on SQLite and on PostgreSQL.

``make test`` runs these on both databases; each thread has its own app
context, session and connection, as concurrent requests do.
"""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import select

from clientflow_plugin import invoices as domain
from clientflow_plugin.invoices import BillingError
from clientflow_plugin.models import Invoice, NumberSequence, Payment
from host_stub.extensions import db
from tests.clientflow.billing_factories import issued_invoice, line, new_client

ISSUED_ON = date(2026, 3, 2)


def drafts(workspace, count: int) -> list[int]:
    client = new_client(workspace)
    ids = []
    for _ in range(count):
        invoice = domain.create_draft(workspace, client, lines=[line(10000)])
        ids.append(invoice.id)
    db.session.commit()
    return ids


def run_together(app, jobs) -> list[BaseException]:
    """Run each job in its own thread and app context, all released at once."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def worker(job):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                job()
            except BaseException as exc:  # reported by the test
                db.session.rollback()
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def issue_job(invoice_ids: list[int]):
    def job():
        for invoice_id in invoice_ids:
            invoice = db.session.get(Invoice, invoice_id)
            domain.issue(invoice, actor_id=None, today=ISSUED_ON)
            db.session.commit()

    return job


def issued_numbers(workspace) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Invoice.number)
            .where(Invoice.workspace_id == workspace.id, Invoice.state == "issued")
            .order_by(Invoice.number)
        )
    )


def test_two_drafts_issued_at_once_get_the_next_two_numbers(app, workspace):
    db.session.add(
        NumberSequence(workspace_id=workspace.id, prefix="2026-", last_number=7)
    )
    db.session.commit()
    first, second = drafts(workspace, 2)

    errors = run_together(app, [issue_job([first]), issue_job([second])])

    assert errors == []
    assert issued_numbers(workspace) == ["2026-0008", "2026-0009"]


def test_threads_issuing_together_get_unique_gapless_numbers(
    app, workspace, is_postgres
):
    threads, each = 8, 5
    ids = drafts(workspace, threads * each)
    batches = [ids[i * each : (i + 1) * each] for i in range(threads)]

    errors = run_together(app, [issue_job(batch) for batch in batches])

    assert errors == [], f"on {'PostgreSQL' if is_postgres else 'SQLite'}"
    expected = [f"2026-{n:04d}" for n in range(1, threads * each + 1)]
    assert issued_numbers(workspace) == expected


def test_numbers_stay_gapless_when_some_issues_roll_back(app, workspace):
    ids = drafts(workspace, 12)

    def issue_then_roll_back(invoice_id):
        def job():
            invoice = db.session.get(Invoice, invoice_id)
            domain.issue(invoice, actor_id=None, today=ISSUED_ON)
            db.session.rollback()

        return job

    jobs = [
        issue_then_roll_back(invoice_id) if i % 3 == 0 else issue_job([invoice_id])
        for i, invoice_id in enumerate(ids)
    ]

    errors = run_together(app, jobs)

    assert errors == []
    assert issued_numbers(workspace) == [f"2026-{n:04d}" for n in range(1, 9)]


def test_the_same_draft_issued_twice_at_once_gets_one_number(app, workspace):
    (invoice_id,) = drafts(workspace, 1)

    errors = run_together(app, [issue_job([invoice_id]) for _ in range(4)])

    assert len(errors) == 3
    assert all(isinstance(error, BillingError) for error in errors)
    assert issued_numbers(workspace) == ["2026-0001"]
    assert db.session.scalar(select(NumberSequence.last_number)) == 1


def test_payments_recorded_at_once_never_exceed_the_total(app, workspace):
    invoice = issued_invoice(workspace, new_client(workspace))  # 100.00
    invoice_id = invoice.id

    def pay():
        target = db.session.get(Invoice, invoice_id)
        domain.record_payment(
            target, amount_minor=4000, paid_on=ISSUED_ON, today=ISSUED_ON
        )
        db.session.commit()

    errors = run_together(app, [pay for _ in range(6)])

    db.session.expire_all()
    paid = db.session.scalars(select(Payment.amount_minor)).all()
    assert sum(paid) == 8000
    assert len(errors) == 4
    assert all(isinstance(error, domain.OverpaymentError) for error in errors)
