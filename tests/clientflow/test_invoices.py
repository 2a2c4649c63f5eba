"""The invoice domain: drafts, issuing, voiding, payments and derived status."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from clientflow_plugin import audit, clock
from clientflow_plugin import invoices as domain
from clientflow_plugin.invoices import (
    ImmutableInvoiceError,
    InvoiceInputError,
    InvoiceStateError,
    OverpaymentError,
    PaymentError,
)
from clientflow_plugin.models import Invoice, PortalToken, Settings, TaxRate
from host_stub.extensions import db
from tests.clientflow.billing_factories import (
    issued_invoice,
    line,
    new_client,
    rate_id,
    snapshot,
)

ISSUED_ON = date(2026, 3, 1)


@pytest.fixture
def client(workspace):
    return new_client(workspace)


@pytest.fixture
def vat(workspace):
    return rate_id(workspace, "IVA 21%")


@pytest.fixture
def irpf(workspace):
    return rate_id(workspace, "IRPF -15%")


def draft(workspace, client, *lines, **kwargs):
    invoice = domain.create_draft(workspace, client, lines=list(lines), **kwargs)
    db.session.commit()
    return invoice


# --- totals stored on the invoice ---------------------------------------------


def test_draft_stores_totals_with_the_discount_before_tax(workspace, client, vat):
    invoice = draft(
        workspace, client, line(4500, "3", taxes=[vat]), discount_minor=6000
    )

    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (
        7500,
        1575,
        9075,
    )


def test_draft_stores_the_rounded_net_of_a_discounted_line(workspace, client, vat):
    invoice = draft(workspace, client, line(5748, discount="10", taxes=[vat]))

    assert invoice.lines[0].net_minor == 5173
    assert (invoice.tax_minor, invoice.total_minor) == (1086, 6259)


def test_draft_stores_one_tax_row_per_rate(workspace, client, vat, irpf):
    invoice = draft(
        workspace,
        client,
        line(4000, taxes=[vat, irpf]),
        line(4000, taxes=[vat]),
    )

    stored = {(t.name, t.base_minor, t.amount_minor) for t in invoice.taxes}
    assert stored == {("IVA 21%", 8000, 1680), ("IRPF -15%", 4000, -600)}
    assert invoice.total_minor == 9080


def test_yen_invoice_stores_one_hundred_minor_units(make_workspace):
    workspace = make_workspace(currency="JPY")
    client = new_client(workspace)

    invoice = draft(workspace, client, line(100))

    assert (invoice.currency, invoice.total_minor) == ("JPY", 100)


def test_breakdown_shows_each_rounding_step(workspace, client, vat):
    invoice = draft(workspace, client, line(5748, discount="10", taxes=[vat]))

    result = domain.breakdown(invoice)

    assert result.lines[0].net_exact == Decimal("5173.2")
    assert result.taxes[0].amount_exact == Decimal("1086.33")
    assert result.taxes[0].amount_minor == 1086


def test_adding_a_line_recalculates_the_draft(workspace, client, vat):
    invoice = draft(workspace, client, line(4000, taxes=[vat]))

    domain.add_line(invoice, line(4000, taxes=[vat]))
    db.session.commit()

    assert (invoice.subtotal_minor, invoice.tax_minor) == (8000, 1680)


def test_removing_a_line_recalculates_the_draft(workspace, client, vat):
    invoice = draft(workspace, client, line(4000, taxes=[vat]), line(1000))

    domain.remove_line(invoice, invoice.lines[1].id)
    db.session.commit()

    assert (len(invoice.lines), invoice.total_minor) == (1, 4840)


def test_line_taxes_can_be_changed_per_line(workspace, client, vat, irpf):
    invoice = draft(workspace, client, line(10000, taxes=[vat]))

    domain.set_line_taxes(invoice, {invoice.lines[0].id: [vat, irpf]})
    db.session.commit()

    assert invoice.total_minor == 10600


def test_update_draft_replaces_all_lines(workspace, client):
    invoice = draft(workspace, client, line(1000), line(2000))

    domain.update_draft(invoice, lines=[line(500)])
    db.session.commit()

    assert [ln.unit_price_minor for ln in invoice.lines] == [500]
    assert invoice.total_minor == 500


def test_editing_a_rate_recalculates_drafts_that_use_it(workspace, client, vat):
    from clientflow_plugin import taxes

    invoice = draft(workspace, client, line(10000, taxes=[vat]))

    taxes.update_rate(db.session.get(TaxRate, vat), name="IVA", rate=Decimal(10))
    db.session.commit()

    assert invoice.tax_minor == 1000


# --- refused input leaves everything as it was ----------------------------------


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (line(1000, "-1"), "quantity"),
        (line(1000, "0"), "quantity"),
        (line(1000, "10000001"), "quantity"),
        (line(1000, "1.00001"), "quantity"),
        (line(-5), "unit_price"),
        (line(10**13 + 1), "unit_price"),
        (line(1000, discount="101"), "discount_percent"),
        (line(1000, description="  "), "description"),
        (line(1000, kind="gift"), "kind"),
        (line(1000, taxes=[999999]), "taxes"),
        (line(10**13, "1000"), None),
    ],
)
def test_bad_line_is_refused_and_nothing_changes(workspace, client, bad, field):
    invoice = draft(workspace, client, line(1000))
    before = snapshot()

    with pytest.raises(InvoiceInputError) as refused:
        domain.add_line(invoice, bad)
    db.session.rollback()

    assert refused.value.field == field
    assert str(refused.value)
    assert snapshot() == before


def test_tax_rate_of_another_workspace_is_refused(workspace, client, make_workspace):
    theirs = rate_id(make_workspace(), "IVA 21%")
    invoice = draft(workspace, client, line(1000))
    before = snapshot()

    with pytest.raises(InvoiceInputError, match="Unknown tax rate"):
        domain.add_line(invoice, line(1000, taxes=[theirs]))
    db.session.rollback()

    assert snapshot() == before


def test_archived_tax_rate_is_refused_on_a_new_line(workspace, client, vat):
    db.session.get(TaxRate, vat).archived = True
    db.session.commit()

    with pytest.raises(InvoiceInputError, match="archived"):
        draft(workspace, client, line(1000, taxes=[vat]))


def test_client_of_another_workspace_is_refused(workspace, make_workspace):
    theirs = new_client(make_workspace())

    with pytest.raises(InvoiceInputError, match="client"):
        domain.create_draft(workspace, theirs, lines=[line(1000)])


def test_discount_larger_than_the_lines_is_refused(workspace, client):
    invoice = draft(workspace, client, line(1000))
    before = snapshot()

    with pytest.raises(InvoiceInputError, match="discount") as refused:
        domain.update_draft(invoice, discount_minor=1001)
    db.session.rollback()

    assert refused.value.field == "discount"
    assert snapshot() == before


def test_removing_a_line_below_the_discount_is_refused(workspace, client):
    invoice = draft(workspace, client, line(1000), line(1000), discount_minor=1500)

    with pytest.raises(InvoiceInputError, match="discount"):
        domain.remove_line(invoice, invoice.lines[0].id)


@pytest.mark.parametrize(
    ("issue_date", "due_date"),
    [
        (date(1989, 12, 31), None),
        (None, date(2101, 1, 1)),
        (date(2026, 3, 10), date(2026, 3, 9)),
    ],
)
def test_dates_out_of_range_are_refused(workspace, client, issue_date, due_date):
    invoice = draft(workspace, client, line(1000))
    before = snapshot()

    with pytest.raises(InvoiceInputError):
        domain.update_draft(invoice, issue_date=issue_date, due_date=due_date)
    db.session.rollback()

    assert snapshot() == before


# --- issuing --------------------------------------------------------------------


def test_issuing_assigns_the_next_number_of_the_year(workspace, client):
    first = issued_invoice(workspace, client)
    second = issued_invoice(workspace, client)

    assert (first.number, second.number) == ("2026-0001", "2026-0002")


def test_numbers_start_again_each_year(workspace, client):
    issued_invoice(workspace, client, issued_on=date(2025, 12, 31), due_on=None)

    invoice = issued_invoice(workspace, client, issued_on=date(2026, 1, 1), due_on=None)

    assert invoice.number == "2026-0001"


def test_numbering_follows_the_prefix_and_digits_of_the_settings(workspace, client):
    settings = db.session.get(Settings, workspace.id)
    settings.invoice_prefix, settings.number_digits = "F{year}/", 6
    db.session.commit()

    invoice = issued_invoice(workspace, client)

    assert invoice.number == "F2026/000001"


def test_issuing_continues_after_the_last_number(workspace, client):
    from clientflow_plugin.models import NumberSequence

    db.session.add(
        NumberSequence(workspace_id=workspace.id, prefix="2026-", last_number=7)
    )
    db.session.commit()

    invoice = issued_invoice(workspace, client)

    assert invoice.number == "2026-0008"


def test_each_workspace_has_its_own_sequence(workspace, client, make_workspace):
    other = make_workspace()
    issued_invoice(other, new_client(other))

    invoice = issued_invoice(workspace, client)

    assert invoice.number == "2026-0001"


def test_issuing_without_dates_uses_today_and_the_payment_terms(workspace, client):
    invoice = draft(workspace, client, line(1000))

    domain.issue(invoice, actor_id=None, today=date(2026, 5, 4))
    db.session.commit()

    assert (invoice.issue_date, invoice.due_date) == (
        date(2026, 5, 4),
        date(2026, 6, 3),
    )


def test_issuing_records_an_audit_event(workspace, client, owner):
    invoice = draft(workspace, client, line(1000))

    domain.issue(invoice, actor_id=owner.id, today=ISSUED_ON)
    db.session.commit()

    events = audit.events_of_invoice(invoice.id)
    assert [(e.kind, e.user_id, e.detail) for e in events] == [
        ("invoice_issued", owner.id, "2026-0001")
    ]


def test_an_empty_draft_cannot_be_issued(workspace, client):
    invoice = draft(workspace, client)
    before = snapshot()

    with pytest.raises(InvoiceStateError, match="at least one line"):
        domain.issue(invoice, actor_id=None)
    db.session.rollback()

    assert snapshot() == before


def test_an_issue_date_in_the_future_is_refused(workspace, client):
    invoice = draft(workspace, client, line(1000), issue_date=date(2026, 3, 2))

    with pytest.raises(InvoiceInputError, match="later than today"):
        domain.issue(invoice, actor_id=None, today=date(2026, 3, 1))


def test_an_invoice_is_issued_only_once(workspace, client):
    invoice = issued_invoice(workspace, client)

    with pytest.raises(ImmutableInvoiceError):
        domain.issue(invoice, actor_id=None)


def test_a_rolled_back_issue_gives_its_number_back(workspace, client):
    invoice = draft(workspace, client, line(1000))
    domain.issue(invoice, actor_id=None, today=ISSUED_ON)
    db.session.rollback()

    again = issued_invoice(workspace, client)

    assert again.number == "2026-0001"


def test_issued_invoice_keeps_its_rates_when_a_rate_changes(workspace, client, vat):
    invoice = issued_invoice(workspace, client, line(10000, taxes=[vat]))
    rate = db.session.get(TaxRate, vat)
    rate.rate = Decimal(10)
    db.session.commit()

    assert domain.breakdown(invoice).tax_minor == 2100


# --- immutability ---------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        lambda inv: domain.update_draft(inv, terms="changed"),
        lambda inv: domain.add_line(inv, line(100)),
        lambda inv: domain.update_line(inv, inv.lines[0].id, line(100)),
        lambda inv: domain.remove_line(inv, inv.lines[0].id),
        lambda inv: domain.set_line_taxes(inv, {inv.lines[0].id: []}),
        lambda inv: domain.recalculate(inv),
        lambda inv: domain.delete_draft(inv),
    ],
)
def test_an_issued_invoice_cannot_be_edited(workspace, client, change):
    invoice = issued_invoice(workspace, client)
    before = snapshot()

    with pytest.raises(ImmutableInvoiceError, match="2026-0001 has been issued"):
        change(invoice)
    db.session.rollback()

    assert snapshot() == before


def test_a_void_invoice_cannot_be_edited(workspace, client):
    invoice = issued_invoice(workspace, client)
    domain.void(invoice, reason="Typo in the address", actor_id=None)
    db.session.commit()

    with pytest.raises(ImmutableInvoiceError, match="void"):
        domain.update_draft(invoice, terms="changed")


# --- voiding --------------------------------------------------------------------


def test_voiding_keeps_the_number_and_records_the_reason(workspace, client, owner):
    invoice = issued_invoice(workspace, client)

    domain.void(invoice, reason="Billed twice", actor_id=owner.id)
    db.session.commit()

    assert (invoice.state, invoice.number, invoice.void_reason) == (
        "void",
        "2026-0001",
        "Billed twice",
    )
    assert audit.events_of_invoice(invoice.id)[-1].kind == "invoice_voided"


def test_voiding_revokes_the_portal_links(workspace, client):
    invoice = issued_invoice(workspace, client)
    db.session.add(
        PortalToken(
            invoice_id=invoice.id,
            token_hash="a" * 64,
            expires_at=datetime(2030, 1, 1, tzinfo=UTC),
        )
    )
    db.session.commit()

    domain.void(invoice, reason="Billed twice", actor_id=None)
    db.session.commit()

    assert db.session.scalar(select(PortalToken.revoked_at)) is not None


def test_voiding_needs_a_reason(workspace, client):
    invoice = issued_invoice(workspace, client)

    with pytest.raises(InvoiceInputError, match="why"):
        domain.void(invoice, reason="  ", actor_id=None)


def test_a_draft_cannot_be_voided(workspace, client):
    invoice = draft(workspace, client, line(1000))

    with pytest.raises(InvoiceStateError, match="delete the draft"):
        domain.void(invoice, reason="No", actor_id=None)


def test_an_invoice_with_payments_cannot_be_voided(workspace, client):
    invoice = issued_invoice(workspace, client)
    domain.record_payment(invoice, amount_minor=100, paid_on=ISSUED_ON, today=ISSUED_ON)
    db.session.commit()
    before = snapshot()

    with pytest.raises(InvoiceStateError, match="payments"):
        domain.void(invoice, reason="Billed twice", actor_id=None)
    db.session.rollback()

    assert snapshot() == before


def test_void_invoices_do_not_take_part_in_the_balance(workspace, client):
    invoice = issued_invoice(workspace, client)

    domain.void(invoice, reason="Billed twice", actor_id=None)
    db.session.commit()

    assert domain.balance_minor(invoice) == 0
    assert domain.status_of(invoice, ISSUED_ON) == "void"


# --- payments -------------------------------------------------------------------


def pay(invoice, amount, on=date(2026, 3, 10)):
    payment = domain.record_payment(
        invoice, amount_minor=amount, paid_on=on, today=date(2026, 4, 30)
    )
    db.session.commit()
    return payment


def test_partial_payment_leaves_the_rest_as_balance(workspace, client):
    invoice = issued_invoice(workspace, client)

    pay(invoice, 4000)

    assert domain.balance_minor(invoice) == 6000
    assert domain.status_of(invoice, date(2026, 3, 15)) == "pending"


def test_payments_covering_the_total_make_the_invoice_paid(workspace, client):
    invoice = issued_invoice(workspace, client)

    pay(invoice, 4000)
    pay(invoice, 6000)

    assert domain.balance_minor(invoice) == 0
    assert domain.status_of(invoice, date(2026, 12, 1)) == "paid"


def test_overpayment_is_refused_with_the_balance_in_the_message(workspace, client):
    invoice = issued_invoice(workspace, client)
    pay(invoice, 4000)
    before = snapshot()

    with pytest.raises(OverpaymentError, match="60.00 EUR still owed") as refused:
        pay(invoice, 6001)
    db.session.rollback()

    assert refused.value.balance_minor == 6000
    assert snapshot() == before


def test_payment_on_a_draft_is_refused(workspace, client):
    invoice = draft(workspace, client, line(1000))

    with pytest.raises(PaymentError, match="issued"):
        pay(invoice, 100)


def test_payment_on_a_void_invoice_is_refused(workspace, client):
    invoice = issued_invoice(workspace, client)
    domain.void(invoice, reason="Billed twice", actor_id=None)
    db.session.commit()

    with pytest.raises(PaymentError, match="issued"):
        pay(invoice, 100)


@pytest.mark.parametrize("amount", [0, -100, 10**13 + 1])
def test_payment_amount_must_be_positive_and_bounded(workspace, client, amount):
    invoice = issued_invoice(workspace, client)

    with pytest.raises(PaymentError) as refused:
        pay(invoice, amount)

    assert refused.value.field == "amount"


def test_payment_dated_in_the_future_is_refused(workspace, client):
    invoice = issued_invoice(workspace, client)

    with pytest.raises(PaymentError, match="later than today") as refused:
        domain.record_payment(
            invoice, amount_minor=100, paid_on=date(2026, 5, 2), today=date(2026, 5, 1)
        )

    assert refused.value.field == "paid_on"


def test_payment_reference_is_stored_encrypted(workspace, client):
    invoice = issued_invoice(workspace, client)

    domain.record_payment(
        invoice,
        amount_minor=100,
        paid_on=ISSUED_ON,
        reference="TRF 12345",
        today=ISSUED_ON,
    )
    db.session.commit()

    raw = db.session.execute(
        db.text("select reference from clientflow_payments")
    ).scalar_one()
    assert "12345" not in raw


def test_payment_records_an_audit_event_without_the_reference(workspace, client):
    invoice = issued_invoice(workspace, client)

    domain.record_payment(
        invoice, amount_minor=2550, paid_on=ISSUED_ON, reference="IBAN", today=ISSUED_ON
    )
    db.session.commit()

    event = audit.events_of_invoice(invoice.id)[-1]
    assert (event.kind, event.detail) == ("payment_recorded", "25.50 EUR")


# --- status ---------------------------------------------------------------------


def test_status_is_draft_before_issuing(workspace, client):
    invoice = draft(workspace, client, line(1000))

    assert domain.status_of(invoice, ISSUED_ON) == "draft"


def test_unpaid_invoice_is_pending_on_its_due_date(workspace, client):
    invoice = issued_invoice(workspace, client, due_on=date(2026, 3, 31))

    assert domain.status_of(invoice, date(2026, 3, 31)) == "pending"


def test_unpaid_invoice_is_overdue_the_day_after_its_due_date(workspace, client):
    invoice = issued_invoice(workspace, client, due_on=date(2026, 3, 31))

    assert domain.status_of(invoice, date(2026, 4, 1)) == "overdue"


def test_partly_paid_invoice_past_its_due_date_is_overdue(workspace, client):
    invoice = issued_invoice(workspace, client, due_on=date(2026, 3, 31))
    pay(invoice, 9999)

    assert domain.status_of(invoice, date(2026, 4, 1)) == "overdue"


def mexico_city_invoice(make_workspace):
    workspace = make_workspace(timezone="America/Mexico_City", currency="MXN")
    return workspace, issued_invoice(
        workspace,
        new_client(workspace, region="MX"),
        issued_on=date(2026, 3, 1),
        due_on=date(2026, 3, 31),
    )


def test_overdue_waits_for_local_midnight_in_mexico_city(make_workspace):
    workspace, invoice = mexico_city_invoice(make_workspace)
    # 23:30 on 31 March in Mexico City is already 1 April in UTC.
    at = datetime(2026, 4, 1, 5, 30, tzinfo=UTC)

    today = clock.today_in(workspace, at)

    assert today == date(2026, 3, 31)
    assert domain.status_of(invoice, today) == "pending"


def test_overdue_starts_at_local_midnight_in_mexico_city(make_workspace):
    workspace, invoice = mexico_city_invoice(make_workspace)
    at = datetime(2026, 4, 1, 6, 30, tzinfo=UTC)  # 00:30 on 1 April there

    assert domain.status_of(invoice, clock.today_in(workspace, at)) == "overdue"


def test_status_uses_the_workspace_clock_when_no_day_is_given(
    make_workspace, monkeypatch
):
    workspace, invoice = mexico_city_invoice(make_workspace)
    monkeypatch.setattr(
        clock, "now_utc", lambda: datetime(2026, 4, 1, 5, 30, tzinfo=UTC)
    )

    assert domain.status_of(invoice) == "pending"


def statuses_in_sql(today):
    rows = db.session.execute(
        select(Invoice.id, domain.status_expr(today), domain.balance_expr())
    ).all()
    return {row[0]: (row[1], row[2]) for row in rows}


def test_sql_status_and_balance_agree_with_python(workspace, client):
    paid = issued_invoice(workspace, client)
    pay(paid, 10000)
    partly = issued_invoice(workspace, client)
    pay(partly, 2500)
    open_one = issued_invoice(workspace, client, due_on=date(2026, 6, 30))
    void = issued_invoice(workspace, client)
    domain.void(void, reason="Billed twice", actor_id=None)
    drafted = draft(workspace, client, line(1000))
    db.session.commit()
    today = date(2026, 4, 15)

    in_sql = statuses_in_sql(today)

    expected = {
        inv.id: (domain.status_of(inv, today), domain.balance_minor(inv))
        for inv in (paid, partly, open_one, void, drafted)
    }
    assert in_sql == expected
    assert set(status for status, _ in in_sql.values()) == {
        "paid",
        "overdue",
        "pending",
        "void",
        "draft",
    }


def test_zero_total_invoice_is_paid_once_issued(workspace, client):
    invoice = issued_invoice(workspace, client, line(1000, discount="100"))

    assert domain.status_of(invoice, date(2026, 12, 1)) == "paid"
    assert statuses_in_sql(date(2026, 12, 1))[invoice.id] == ("paid", 0)
