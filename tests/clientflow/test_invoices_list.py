"""The invoices page: groups, tabs, pages and the client filter.

The page reads the revenue totals and each invoice's ``paid_minor``, both
kept by the database, instead of adding up every payment. What it shows must
still follow the status rules of DESIGN.md §3 to the cent, in the order the
page promises, in a number of queries that does not grow with the books.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import template_rendered

from clientflow_plugin import clock
from clientflow_plugin import invoices as domain
from clientflow_plugin.models import Invoice, Payment
from host_stub.extensions import db
from host_stub.models import Workspace
from tests.clientflow.billing_factories import issued_invoice, new_client
from tests.clientflow.dashboard_factories import Books
from tests.clientflow.test_invoices_concurrency import run_together

TODAY = date(2026, 4, 15)
TEMPLATE = "clientflow/billing/invoices.html"
PAGE_SIZE = 25

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def on_15_april(monkeypatch):
    monkeypatch.setattr(
        clock, "now_utc", lambda: datetime(2026, 4, 15, 10, 0, tzinfo=UTC)
    )


@pytest.fixture
def base(workspace):
    return f"/w/{workspace.slug}/clientflow/billing/invoices"


@pytest.fixture
def shown(app, owner_client, base):
    """Open the page with the given query and return what it rendered."""

    def get(**query) -> dict:
        seen = []

        def record(sender, template, context, **extra):
            if template.name == TEMPLATE:
                seen.append(context)

        with template_rendered.connected_to(record, app):
            response = owner_client.get(base, query_string=query)
        assert response.status_code == 200
        return seen[-1]

    return get


def invoice(
    workspace,
    client,
    total: int,
    *,
    state: str = "issued",
    issued: date | None = None,
    due: date | None = None,
    currency: str | None = None,
) -> Invoice:
    """An invoice written straight into the table, as any code may leave it."""
    row = Invoice(
        workspace_id=workspace.id,
        client_id=client.id,
        state=state,
        currency=currency or workspace.currency,
        number=None if state == "draft" else f"L-{next(_numbers):05d}",
        issue_date=issued,
        due_date=due,
        subtotal_minor=total,
        total_minor=total,
    )
    db.session.add(row)
    db.session.commit()
    return row


def pay(row: Invoice, *amounts: int, on: date = date(2026, 3, 2)) -> None:
    for amount in amounts:
        db.session.add(
            Payment(
                workspace_id=row.workspace_id,
                invoice_id=row.id,
                amount_minor=amount,
                paid_on=on,
            )
        )
    db.session.commit()


@pytest.fixture
def mixed(workspace):
    """Every status, partial payments, a zero total, no due date, a due date
    of today, and a second currency; seen on 15 April 2026."""
    books = Books(workspace)
    ana, bea = books.client("Ana"), books.client("Bea")
    d = date
    made = {
        "draft_undated": invoice(workspace, ana, 5_000, state="draft"),
        "draft_dated": invoice(
            workspace, ana, 6_000, state="draft", issued=d(2026, 4, 10)
        ),
        "void": invoice(
            workspace,
            bea,
            7_000,
            state="void",
            issued=d(2026, 3, 5),
            due=d(2026, 4, 4),
        ),
        "paid": invoice(
            workspace, ana, 10_000, issued=d(2026, 3, 1), due=d(2026, 3, 31)
        ),
        "overdue_part": invoice(
            workspace, bea, 40_000, issued=d(2026, 3, 1), due=d(2026, 4, 1)
        ),
        "free": invoice(workspace, ana, 0, issued=d(2026, 3, 20), due=d(2026, 4, 19)),
        "overdue": invoice(
            workspace, ana, 8_000, issued=d(2026, 2, 1), due=d(2026, 3, 1)
        ),
        "pending": invoice(
            workspace, bea, 20_000, issued=d(2026, 4, 1), due=d(2026, 5, 1)
        ),
        "pending_part": invoice(
            workspace, ana, 30_000, issued=d(2026, 4, 5), due=d(2026, 5, 5)
        ),
        "no_due_date": invoice(workspace, bea, 9_000, issued=d(2026, 1, 20)),
        "due_today": invoice(
            workspace, ana, 15_000, issued=d(2026, 3, 16), due=d(2026, 4, 15)
        ),
        "usd_overdue": invoice(
            workspace,
            bea,
            50_000,
            issued=d(2026, 3, 10),
            due=d(2026, 4, 9),
            currency="USD",
        ),
        "usd_paid": invoice(
            workspace,
            ana,
            12_000,
            issued=d(2026, 2, 15),
            due=d(2026, 3, 17),
            currency="USD",
        ),
    }
    pay(made["void"], 1_000)  # a voided invoice keeps its payment
    pay(made["paid"], 4_000, 6_000)
    pay(made["overdue_part"], 15_000)
    pay(made["pending_part"], 10_000)
    pay(made["usd_paid"], 12_000)
    made["clients"] = (ana, bea)
    return made


def names(rows, made) -> list[str]:
    by_id = {row.id: name for name, row in made.items() if isinstance(row, Invoice)}
    return [by_id[row.id] for row in rows]


# --- groups -----------------------------------------------------------------------


def test_each_group_counts_and_sums_to_the_cent(shown, mixed):
    groups = shown()["groups"]

    assert groups == {
        "paid": {
            "count": 3,
            "sums": {
                "EUR": {"total": 10_000, "balance": 0},
                "USD": {"total": 12_000, "balance": 0},
            },
        },
        "overdue": {
            "count": 3,
            "sums": {
                "EUR": {"total": 48_000, "balance": 33_000},
                "USD": {"total": 50_000, "balance": 50_000},
            },
        },
        "pending": {
            "count": 4,
            "sums": {"EUR": {"total": 74_000, "balance": 64_000}},
        },
        "draft": {"count": 2, "sums": {"EUR": {"total": 11_000, "balance": 0}}},
        "void": {"count": 1, "sums": {"EUR": {"total": 7_000, "balance": 0}}},
    }


def test_the_all_tab_adds_up_issued_invoices_only(shown, mixed):
    context = shown()

    assert context["shown"] == {
        "count": 13,
        "issued": 10,
        "sums": {
            "EUR": {"total": 132_000, "balance": 97_000},
            "USD": {"total": 62_000, "balance": 50_000},
        },
    }
    assert context["counts"] == {
        "all": 13,
        "paid": 3,
        "overdue": 3,
        "pending": 4,
        "draft": 2,
        "void": 1,
    }


def test_the_cards_show_collected_and_outstanding_amounts(owner_client, base, mixed):
    page = owner_client.get(base).get_data(as_text=True)

    assert "€100.00" in page  # paid: invoiced and collected in full
    assert "€640.00" in page  # pending: balance
    assert "€330.00" in page and "$500.00" in page  # overdue: balances


# --- tabs ---------------------------------------------------------------------------

ORDER = {
    "all": [
        "draft_undated",
        "draft_dated",
        "pending_part",
        "pending",
        "free",
        "due_today",
        "usd_overdue",
        "void",
        "overdue_part",
        "paid",
        "usd_paid",
        "overdue",
        "no_due_date",
    ],
    "overdue": ["overdue", "overdue_part", "usd_overdue"],
    "pending": ["pending_part", "pending", "due_today", "no_due_date"],
    "paid": ["free", "paid", "usd_paid"],
    "draft": ["draft_undated", "draft_dated"],
    "void": ["void"],
}


@pytest.mark.parametrize("status", list(ORDER))
def test_each_tab_lists_its_invoices_in_order(shown, mixed, status):
    rows = shown(status=status)["rows"]

    assert names(rows, mixed) == ORDER[status]


def test_each_row_carries_its_status_and_balance(shown, mixed):
    rows = {row.id: row for row in shown()["rows"]}

    def seen(name):
        row = rows[mixed[name].id]
        return row.status, row.balance_minor

    assert seen("overdue_part") == ("overdue", 25_000)
    assert seen("pending_part") == ("pending", 20_000)
    assert seen("due_today") == ("pending", 15_000)
    assert seen("no_due_date") == ("pending", 9_000)
    assert seen("free") == ("paid", 0)
    assert seen("void") == ("void", 0)
    assert seen("draft_undated") == ("draft", 0)
    assert rows[mixed["overdue"].id].client_name == "Ana"


def test_an_unknown_status_shows_every_invoice(shown, mixed):
    context = shown(status="everything")

    assert context["status"] == "all"
    assert len(context["rows"]) == 13


# --- pages --------------------------------------------------------------------------


@pytest.fixture
def undated_then_dated(workspace):
    """30 drafts without dates, 4 dated drafts and 30 issued invoices."""
    books = Books(workspace)
    client = books.client()
    undated = [invoice(workspace, client, 100, state="draft") for _ in range(30)]
    dated_drafts = [
        invoice(workspace, client, 100, state="draft", issued=date(2026, 2, n + 1))
        for n in range(4)
    ]
    issued = [
        invoice(
            workspace,
            client,
            1_000 + n,
            issued=date(2026, 1, 1) + timedelta(days=n // 2),
            due=date(2026, 6, 1),
        )
        for n in range(30)
    ]
    return undated, dated_drafts, issued


def every_page(shown, **query) -> list[list[int]]:
    first = shown(**query)
    pages = [[row.id for row in first["rows"]]]
    for page in range(2, first["pages"] + 1):
        context = shown(page=page, **query)
        assert context["page"] == page
        pages.append([row.id for row in context["rows"]])
    return pages


def test_pages_run_from_the_undated_drafts_into_the_dated_invoices(
    shown, undated_then_dated
):
    undated, dated_drafts, issued = undated_then_dated
    # Issue dates descending (the drafts are in February, after the issued
    # ones of January), ids descending within a day.
    dated = sorted(
        dated_drafts + issued, key=lambda row: (row.issue_date, row.id), reverse=True
    )
    expected = [row.id for row in reversed(undated)] + [row.id for row in dated]

    pages = every_page(shown)

    assert [len(page) for page in pages] == [25, 25, 14]
    assert pages[1][:5] == expected[25:30]  # the last five undated drafts
    assert sum(pages, []) == expected


def test_the_drafts_tab_pages_across_its_undated_drafts(shown, undated_then_dated):
    undated, dated_drafts, _ = undated_then_dated

    pages = every_page(shown, status="draft")

    assert pages == [
        [row.id for row in reversed(undated)][:25],
        [row.id for row in reversed(undated)][25:]
        + [row.id for row in reversed(dated_drafts)],
    ]


def test_a_page_past_the_end_shows_the_last_page(shown, undated_then_dated):
    context = shown(page=99)

    assert (context["page"], context["pages"]) == (3, 3)
    assert len(context["rows"]) == 14


def test_the_overdue_tab_pages_by_due_date(shown, workspace):
    client = Books(workspace).client()
    rows = [
        invoice(
            workspace,
            client,
            500,
            issued=date(2026, 1, 1),
            due=date(2026, 4, 14) - timedelta(days=n % 7),
        )
        for n in range(30)
    ]
    pay(rows[0], 500)  # paid: not overdue

    pages = every_page(shown, status="overdue")

    expected = sorted(rows[1:], key=lambda row: (row.due_date, row.id))
    assert sum(pages, []) == [row.id for row in expected]
    assert [len(page) for page in pages] == [25, 4]


# --- one client ---------------------------------------------------------------------


def test_the_client_filter_counts_and_lists_that_client_only(shown, mixed):
    ana, bea = mixed["clients"]

    context = shown(client_id=bea.id)

    assert context["client"].id == bea.id
    assert {key: group["count"] for key, group in context["groups"].items()} == {
        "paid": 0,
        "overdue": 2,
        "pending": 2,
        "draft": 0,
        "void": 1,
    }
    assert context["groups"]["overdue"]["sums"] == {
        "EUR": {"total": 40_000, "balance": 25_000},
        "USD": {"total": 50_000, "balance": 50_000},
    }
    assert context["groups"]["pending"]["sums"] == {
        "EUR": {"total": 29_000, "balance": 29_000}
    }
    assert names(context["rows"], mixed) == [
        "pending",
        "usd_overdue",
        "void",
        "overdue_part",
        "no_due_date",
    ]


def test_the_client_filter_keeps_to_its_tab(shown, mixed):
    ana, _ = mixed["clients"]

    context = shown(client_id=ana.id, status="paid")

    assert names(context["rows"], mixed) == ["free", "paid", "usd_paid"]
    assert context["groups"]["paid"]["sums"] == {
        "EUR": {"total": 10_000, "balance": 0},
        "USD": {"total": 12_000, "balance": 0},
    }


def test_another_workspace_changes_nothing(shown, mixed, make_workspace):
    other = make_workspace()
    stranger = Books(other).client()
    pay(invoice(other, stranger, 70_000, issued=date(2026, 3, 1)), 100)
    invoice(other, stranger, 1_000, state="draft")

    assert shown()["shown"]["count"] == 13
    assert shown()["groups"]["pending"]["count"] == 4


# --- the rules, on generated books --------------------------------------------------


def test_generated_books_show_what_the_status_rules_say(shown, workspace):
    """Random invoices and payments: every tab, page by page, against
    ``status_of`` and ``balance_minor`` worked out in Python."""
    rng = random.Random(20261205)
    books = Books(workspace)
    clients = [books.client(f"Client {n}") for n in range(3)]
    made = []
    for _ in range(140):
        state = rng.choice(["draft", "issued", "issued", "issued", "void"])
        issued = rng.choice([None, TODAY - timedelta(days=rng.randrange(120))])
        if state != "draft" and issued is None:
            issued = TODAY - timedelta(days=rng.randrange(120))
        due = rng.choice([None, issued + timedelta(days=30)] if issued else [None])
        total = rng.choice([0, rng.randrange(1, 100_000)])
        row = invoice(
            workspace,
            rng.choice(clients),
            total,
            state=state,
            issued=issued,
            due=due,
            currency=rng.choice(["EUR", "EUR", "USD"]),
        )
        if state != "draft" and total and rng.random() < 0.6:
            pay(row, *(rng.randrange(1, total + 1) // 2 + 1 for _ in range(2)))
        made.append(row)
    db.session.expire_all()
    expected = _expected(made)

    for status in ("all", *domain.STATUSES):
        listed = sum(every_page(shown, status=status), [])
        wanted = [
            row
            for row in made
            if status == "all" or domain.status_of(row, TODAY) == status
        ]
        assert listed == [row.id for row in _in_page_order(wanted, status)], status
    assert shown()["groups"] == expected


def _expected(rows) -> dict:
    groups = {s: {"count": 0, "sums": {}} for s in domain.STATUSES}
    for row in rows:
        group = groups[domain.status_of(row, TODAY)]
        group["count"] += 1
        sums = group["sums"].setdefault(row.currency, {"total": 0, "balance": 0})
        sums["total"] += row.total_minor
        sums["balance"] += domain.balance_minor(row)
    return groups


def _in_page_order(rows, status) -> list:
    if status == "overdue":
        return sorted(rows, key=lambda row: (row.due_date, row.id))
    undated = sorted((r for r in rows if r.issue_date is None), key=lambda r: -r.id)
    dated = sorted(
        (r for r in rows if r.issue_date is not None),
        key=lambda r: (r.issue_date, r.id),
        reverse=True,
    )
    return undated + dated


# --- queries ------------------------------------------------------------------------


def _listing_queries(statements) -> list[str]:
    # The scheduler's health (a fixed number per cron job) is shown on the page.
    return [
        q for q in statements if "clientflow_" in q and "clientflow_job_runs" not in q
    ]


def _bulk_invoices(workspace, clients, n: int, start: int) -> None:
    """``n`` invoices of every kind, most of the issued ones paid in full or in
    part, in two statements."""
    before = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(Invoice.id), 0)))
    rows = []
    for k in range(start, start + n):
        state = ("draft", "void", "issued", "issued", "issued")[k % 5]
        issued = None if state == "draft" and k % 2 else TODAY - timedelta(days=k % 400)
        rows.append(
            {
                "workspace_id": workspace.id,
                "client_id": clients[k % len(clients)].id,
                "state": state,
                "currency": "EUR",
                "number": None if state == "draft" else f"B-{k:06d}",
                "issue_date": issued,
                "due_date": issued + timedelta(days=30) if issued else None,
                "subtotal_minor": 10_000,
                "total_minor": 10_000,
            }
        )
    db.session.execute(sa.insert(Invoice), rows)
    ids = db.session.scalars(
        sa.select(Invoice.id).where(Invoice.id > before, Invoice.state != "draft")
    ).all()
    db.session.execute(
        sa.insert(Payment),
        [
            {
                "workspace_id": workspace.id,
                "invoice_id": invoice_id,
                "paid_on": TODAY - timedelta(days=1),
                "amount_minor": 4_000 if invoice_id % 3 == 0 else 10_000,
            }
            for invoice_id in ids
            if invoice_id % 4
        ],
    )
    db.session.commit()


QUERIES = [
    {},
    {"status": "overdue"},
    {"status": "pending", "page": 2},
    {"status": "draft", "page": 2},
    {"status": "paid", "page": 3},
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_page_runs_the_same_queries_with_10_or_2000_invoices(
    app, owner_client, base, workspace, query_counter, query
):
    books = Books(workspace)
    clients = [books.client(f"Client {n}") for n in range(5)]
    _bulk_invoices(workspace, clients, 10, 0)
    with query_counter() as few:
        assert owner_client.get(base, query_string=query).status_code == 200
        owner_client.get(base, query_string={**query, "client_id": clients[0].id})

    _bulk_invoices(workspace, clients, 2_000, 10)
    with query_counter() as many:
        assert owner_client.get(base, query_string=query).status_code == 200
        owner_client.get(base, query_string={**query, "client_id": clients[0].id})

    ours = [_listing_queries(run) for run in (few, many)]
    # Per request: the group totals and the page; the client filter adds its
    # client.
    assert [len(run) for run in ours] == [5, 5]


def test_the_pages_of_2000_invoices_agree_with_the_rules(shown, workspace):
    books = Books(workspace)
    clients = [books.client(f"Client {n}") for n in range(5)]
    _bulk_invoices(workspace, clients, 2_000, 0)
    rows = db.session.scalars(sa.select(Invoice)).all()

    assert shown()["groups"] == _expected(rows)
    overdue = shown(status="overdue", page=3)["rows"]
    wanted = _in_page_order(
        [row for row in rows if domain.status_of(row, TODAY) == "overdue"], "overdue"
    )
    assert [row.id for row in overdue] == [row.id for row in wanted[50:75]]


# --- paid_minor follows the payments ------------------------------------------------


def assert_paid_matches_payments() -> None:
    paid = (
        sa.select(sa.func.coalesce(sa.func.sum(Payment.amount_minor), 0))
        .where(Payment.invoice_id == Invoice.id)
        .scalar_subquery()
    )
    wrong = db.session.execute(
        sa.select(Invoice.id, Invoice.paid_minor, paid).where(
            Invoice.paid_minor != paid
        )
    ).all()
    assert wrong == []


def paid_of(row: Invoice) -> int:
    return db.session.scalar(sa.select(Invoice.paid_minor).where(Invoice.id == row.id))


def test_paid_follows_inserts_updates_and_deletes_of_payments(app, workspace):
    client = Books(workspace).client()
    first = invoice(workspace, client, 10_000, issued=TODAY)
    second = invoice(workspace, client, 20_000, issued=TODAY)
    assert paid_of(first) == 0

    pay(first, 3_000, 2_000)
    assert paid_of(first) == 5_000

    db.session.execute(
        sa.update(Payment)
        .where(Payment.amount_minor == 3_000)
        .values(amount_minor=3_500)
    )
    db.session.commit()
    assert paid_of(first) == 5_500

    db.session.execute(
        sa.update(Payment)
        .where(Payment.amount_minor == 2_000)
        .values(invoice_id=second.id, amount_minor=2_500)
    )
    db.session.commit()
    assert (paid_of(first), paid_of(second)) == (3_500, 2_500)

    db.session.execute(
        sa.update(Payment).values(paid_on=TODAY, method="card")
    )  # neither the invoice nor the amount: nothing moves
    db.session.execute(sa.delete(Payment).where(Payment.invoice_id == first.id))
    db.session.commit()
    assert (paid_of(first), paid_of(second)) == (0, 2_500)
    assert_paid_matches_payments()


def test_one_statement_of_many_payments_adds_them_all(app, workspace):
    client = Books(workspace).client()
    first = invoice(workspace, client, 10_000, issued=TODAY)
    second = invoice(workspace, client, 20_000, issued=TODAY)

    db.session.execute(
        sa.insert(Payment).values(
            [
                {
                    "workspace_id": workspace.id,
                    "invoice_id": row.id,
                    "amount_minor": amount,
                    "paid_on": TODAY,
                    "method": "transfer",
                }
                for row, amount in ((first, 1_000), (second, 2_000), (first, 300))
            ]
        )
    )
    db.session.commit()

    assert (paid_of(first), paid_of(second)) == (1_300, 2_000)


def test_recording_a_payment_updates_paid(app, workspace):
    row = issued_invoice(workspace, new_client(workspace))
    domain.record_payment(row, amount_minor=2_500, paid_on=TODAY, today=TODAY)
    db.session.commit()

    assert paid_of(row) == 2_500


def test_a_rolled_back_payment_leaves_paid_alone(app, workspace):
    row = invoice(workspace, Books(workspace).client(), 10_000, issued=TODAY)
    db.session.add(
        Payment(
            workspace_id=workspace.id,
            invoice_id=row.id,
            amount_minor=100,
            paid_on=TODAY,
        )
    )
    db.session.flush()
    db.session.rollback()

    assert paid_of(row) == 0


def test_any_sequence_of_payment_writes_keeps_paid_right(app, make_workspace):
    rng = random.Random(20261206)
    workspaces = [make_workspace(), make_workspace()]
    rows = [
        invoice(w, Books(w).client(), rng.randrange(1, 10**6), issued=TODAY)
        for w in workspaces
        for _ in range(4)
    ]
    payment_ids: list[int] = []

    for step in range(200):
        action = rng.choice(["pay", "pay", "change", "move", "delete"])
        if action == "pay" or not payment_ids:
            target = rng.choice(rows)
            payment = Payment(
                workspace_id=target.workspace_id,
                invoice_id=target.id,
                paid_on=TODAY,
                amount_minor=rng.randrange(1, 10**5),
            )
            db.session.add(payment)
            db.session.flush()
            payment_ids.append(payment.id)
        elif action == "change":
            db.session.execute(
                sa.update(Payment)
                .where(Payment.id == rng.choice(payment_ids))
                .values(amount_minor=rng.randrange(1, 10**5))
            )
        elif action == "move":
            db.session.execute(
                sa.update(Payment)
                .where(Payment.id == rng.choice(payment_ids))
                .values(invoice_id=rng.choice(rows).id)
            )
        else:
            gone = payment_ids.pop(rng.randrange(len(payment_ids)))
            db.session.execute(sa.delete(Payment).where(Payment.id == gone))
        if step % 50 == 49:
            db.session.commit()
            assert_paid_matches_payments()


def test_payments_of_one_invoice_recorded_together_all_count(app, workspace):
    row = invoice(workspace, Books(workspace).client(), 100_000, issued=TODAY)
    row_id, workspace_id = row.id, workspace.id

    def job():
        db.session.add(
            Payment(
                workspace_id=workspace_id,
                invoice_id=row_id,
                amount_minor=1_500,
                paid_on=TODAY,
            )
        )
        db.session.commit()

    errors = run_together(app, [job] * 6)

    assert errors == []
    assert paid_of(row) == 6 * 1_500


def test_deleting_a_workspace_with_payments_works(app, make_workspace):
    workspace = make_workspace()
    books = Books(workspace)
    books.paid_invoice(books.client(), 10_000, TODAY, TODAY)
    workspace_id = workspace.id

    db.session.execute(sa.delete(Workspace).where(Workspace.id == workspace_id))
    db.session.commit()

    left = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Invoice)
        .where(Invoice.workspace_id == workspace_id)
    )
    assert left == 0
