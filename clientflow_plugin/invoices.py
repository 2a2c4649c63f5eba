"""Invoices from draft to paid: the billing domain (DESIGN.md §3).

Drafts are free to change; issuing gives the next number of the workspace's
sequence and freezes the invoice; voiding and payments are the only changes
an issued invoice accepts. Paid, pending and overdue are derived from the
stored state, the payments and the due date, here in Python and as SQL
expressions for the lists.

These functions change the session and flush; the caller commits (or rolls
back), so that a change and its audit event are stored together. Refused
changes raise a :class:`BillingError` whose message is meant for the owner
and leave the session as it was before the call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, literal_column, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from host_stub.sdk import Workspace, db

from . import audit, clock, totals
from .models import (
    Client,
    HourPack,
    Invoice,
    InvoiceLine,
    InvoiceState,
    InvoiceTax,
    LineKind,
    NumberSequence,
    Payment,
    PortalToken,
    TaxRate,
)
from .money import MAX_MINOR, MoneyError, format_plain
from .setup import workspace_settings

logger = logging.getLogger(__name__)

#: The derived statuses, in the order the lists show them.
STATUSES = ("overdue", "pending", "paid", "draft", "void")

#: Payment methods offered to the owner.
PAYMENT_METHODS = ("transfer", "card", "cash", "cheque", "direct_debit", "other")

#: The largest quantity of one line (hours, units).
MAX_QUANTITY = Decimal(10_000_000)
#: Decimal places the database keeps for quantities and percentages.
QUANTITY_PLACES = 4
MAX_LINES = 200
MAX_DESCRIPTION = 1000
MAX_TERMS = 5000
MAX_REFERENCE = 200
MAX_VOID_REASON = 500
#: Business dates accepted on invoices and payments.
FIRST_DATE = date(1990, 1, 1)
LAST_DATE = date(2100, 12, 31)

#: Row ids fit a 32-bit integer; a larger one names nothing (and PostgreSQL
#: would refuse to compare with it).
MAX_ID = 2**31 - 1

_UNSET: Any = object()


class BillingError(Exception):
    """A billing rule refused a change; ``str()`` is a message for the owner.

    ``field`` names the input at fault, when there is one, so a form can show
    the message beside it.
    """

    def __init__(self, message: Any, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class InvoiceInputError(BillingError):
    """A value that cannot go on an invoice (bad quantity, unknown tax rate...)."""


class ImmutableInvoiceError(BillingError):
    """A change to an invoice that is no longer a draft."""


class InvoiceStateError(BillingError):
    """An action the invoice's state does not allow (voiding a draft...)."""


class PaymentError(BillingError):
    """A payment that cannot be recorded on this invoice."""


class OverpaymentError(PaymentError):
    """A payment larger than what is still owed."""

    def __init__(self, message: Any, *, balance_minor: int) -> None:
        super().__init__(message, field="amount")
        self.balance_minor = balance_minor


class NumberingError(BillingError):
    """The next number of the sequence is already taken."""


@dataclass
class LineData:
    """One line as typed by the owner or produced by a template."""

    kind: str = LineKind.SERVICE
    description: str = ""
    quantity: Decimal = Decimal(1)
    unit_price_minor: int = 0
    discount_percent: Decimal = Decimal(0)
    tax_rate_ids: list[int] = field(default_factory=list)
    hour_pack_id: int | None = None

    @classmethod
    def from_line(cls, line: InvoiceLine) -> LineData:
        """The data of a stored line, e.g. to copy it or edit it."""
        return cls(
            kind=line.kind,
            description=line.description,
            quantity=Decimal(line.quantity),
            unit_price_minor=line.unit_price_minor,
            discount_percent=Decimal(line.discount_percent),
            tax_rate_ids=[rate.id for rate in line.tax_rates],
            hour_pack_id=line.hour_pack_id,
        )


# --- drafts -------------------------------------------------------------------


def create_draft(
    workspace: Workspace,
    client: Client,
    *,
    lines: Sequence[LineData] = (),
    discount_minor: int = 0,
    terms: str = "",
    issue_date: date | None = None,
    due_date: date | None = None,
    template_id: int | None = None,
    period_index: int | None = None,
    actor_id: int | None = None,
) -> Invoice:
    """A new draft for ``client`` in the workspace's currency, totals computed."""
    if client is None or client.workspace_id != workspace.id:
        raise InvoiceInputError(
            _l("Choose a client of this workspace."), field="client"
        )
    _check_dates(issue_date, due_date)
    terms = _check_terms(terms)
    checked = [_checked_line(workspace.id, client.id, data, set()) for data in lines]
    _check_line_count(len(checked))

    invoice = Invoice(
        workspace_id=workspace.id,
        client_id=client.id,
        client=client,
        state=InvoiceState.DRAFT,
        currency=workspace.currency,
        issue_date=issue_date,
        due_date=due_date,
        discount_minor=_check_discount(discount_minor),
        terms=terms,
        template_id=template_id,
        period_index=period_index,
    )
    invoice.lines = [_new_line(position, *c) for position, c in enumerate(checked)]
    _recalculate_or_refuse(invoice)
    db.session.add(invoice)
    db.session.flush()
    logger.debug("invoice draft %s created by %s", invoice.id, actor_id)
    return invoice


def update_draft(
    invoice: Invoice,
    *,
    client: Client = _UNSET,
    lines: Sequence[LineData] = _UNSET,
    discount_minor: int = _UNSET,
    terms: str = _UNSET,
    issue_date: date | None = _UNSET,
    due_date: date | None = _UNSET,
) -> Invoice:
    """Change the given parts of a draft; ``lines`` replaces all its lines."""
    require_draft(invoice)
    new_client = invoice.client if client is _UNSET else client
    if new_client is None or new_client.workspace_id != invoice.workspace_id:
        raise InvoiceInputError(
            _l("Choose a client of this workspace."), field="client"
        )
    new_issue = invoice.issue_date if issue_date is _UNSET else issue_date
    new_due = invoice.due_date if due_date is _UNSET else due_date
    _check_dates(new_issue, new_due)
    new_terms = invoice.terms if terms is _UNSET else _check_terms(terms)
    new_discount = (
        invoice.discount_minor
        if discount_minor is _UNSET
        else _check_discount(discount_minor)
    )
    checked = None
    if lines is not _UNSET:
        # Rates archived since they were put on this draft may stay on it.
        in_use = {rate.id for line in invoice.lines for rate in line.tax_rates}
        checked = [
            _checked_line(invoice.workspace_id, new_client.id, data, in_use)
            for data in lines
        ]
        _check_line_count(len(checked))
    elif new_client.id != invoice.client_id:
        for line in invoice.lines:
            _check_hour_pack(invoice.workspace_id, new_client.id, line.hour_pack_id)

    # Check the totals before touching the invoice, so a refusal changes nothing.
    if checked is not None:
        inputs = [_line_input(c[0], c[1]) for c in checked]
    else:
        inputs = [_stored_line_input(line, invoice) for line in invoice.lines]
    _compute_or_refuse(inputs, new_discount)

    invoice.client = new_client
    invoice.client_id = new_client.id
    invoice.issue_date = new_issue
    invoice.due_date = new_due
    invoice.terms = new_terms
    invoice.discount_minor = new_discount
    if checked is not None:
        invoice.lines = [_new_line(position, *c) for position, c in enumerate(checked)]
    recalculate(invoice)
    db.session.flush()
    return invoice


def add_line(invoice: Invoice, data: LineData) -> InvoiceLine:
    """Append one line to a draft."""
    require_draft(invoice)
    _check_line_count(len(invoice.lines) + 1)
    checked = _checked_line(invoice.workspace_id, invoice.client_id, data, set())
    inputs = [_stored_line_input(line, invoice) for line in invoice.lines]
    _compute_or_refuse([*inputs, _line_input(*checked)], invoice.discount_minor)

    position = max((line.position for line in invoice.lines), default=-1) + 1
    line = _new_line(position, *checked)
    invoice.lines.append(line)
    recalculate(invoice)
    db.session.flush()
    return line


def update_line(invoice: Invoice, line_id: int, data: LineData) -> InvoiceLine:
    """Replace the values of one line of a draft."""
    require_draft(invoice)
    line = _line_of(invoice, line_id)
    in_use = {rate.id for rate in line.tax_rates}
    values, rates = _checked_line(invoice.workspace_id, invoice.client_id, data, in_use)
    inputs = [
        _line_input(values, rates)
        if other is line
        else _stored_line_input(other, invoice)
        for other in invoice.lines
    ]
    _compute_or_refuse(inputs, invoice.discount_minor)

    for name, value in values.items():
        setattr(line, name, value)
    line.tax_rates = rates
    recalculate(invoice)
    db.session.flush()
    return line


def remove_line(invoice: Invoice, line_id: int) -> None:
    """Take one line off a draft."""
    require_draft(invoice)
    line = _line_of(invoice, line_id)
    rest = [other for other in invoice.lines if other is not line]
    inputs = [_stored_line_input(other, invoice) for other in rest]
    _compute_or_refuse(inputs, invoice.discount_minor)

    invoice.lines.remove(line)
    recalculate(invoice)
    db.session.flush()


def set_line_taxes(invoice: Invoice, taxes: dict[int, Iterable[int]]) -> None:
    """Set the tax rates of several lines of a draft at once: line id → rate ids."""
    require_draft(invoice)
    chosen: dict[int, list[TaxRate]] = {}
    for line_id, rate_ids in taxes.items():
        line = _line_of(invoice, line_id)
        in_use = {rate.id for rate in line.tax_rates}
        chosen[line.id] = _rates_for(invoice.workspace_id, rate_ids, in_use)
    inputs = [
        _stored_line_input(line, invoice, chosen.get(line.id)) for line in invoice.lines
    ]
    _compute_or_refuse(inputs, invoice.discount_minor)

    for line in invoice.lines:
        if line.id in chosen:
            line.tax_rates = chosen[line.id]
    recalculate(invoice)
    db.session.flush()


def delete_draft(invoice: Invoice, *, actor_id: int | None = None) -> None:
    """Delete a draft; issued invoices are voided instead, never deleted."""
    require_draft(invoice)
    db.session.delete(invoice)
    db.session.flush()
    logger.info("invoice draft %s deleted by %s", invoice.id, actor_id)


def recalculate(invoice: Invoice) -> totals.Breakdown:
    """Store the line nets, the taxes and the totals of a draft from its lines."""
    require_draft(invoice)
    result = breakdown(invoice)
    for line, line_result in zip(invoice.lines, result.lines, strict=True):
        line.net_minor = line_result.net_minor
    invoice.taxes = [
        InvoiceTax(
            tax_rate_id=tax.rate.key,
            name=tax.rate.name,
            rate=tax.rate.percent,
            base_minor=tax.base_minor,
            amount_minor=tax.amount_minor,
        )
        for tax in result.taxes
    ]
    invoice.subtotal_minor = result.subtotal_minor
    invoice.tax_minor = result.tax_minor
    invoice.total_minor = result.total_minor
    return result


def breakdown(invoice: Invoice) -> totals.Breakdown:
    """Every rounding step of the invoice's totals, for the review screen.

    A draft uses its rates as they are now; an issued invoice the rates
    stored when it was issued, so editing a rate never changes it.
    """
    inputs = [_stored_line_input(line, invoice) for line in invoice.lines]
    return totals.compute(inputs, invoice.discount_minor)


# --- issuing and voiding ------------------------------------------------------


def issue(
    invoice: Invoice, *, actor_id: int | None, today: date | None = None
) -> Invoice:
    """Give a draft the next number of the workspace's sequence and freeze it.

    The number is taken in the caller's transaction: if it rolls back, the
    number is given back, so the sequence has no gaps. An empty issue date
    becomes ``today`` (the workspace's), an empty due date follows the
    payment terms of the billing settings.
    """
    require_draft(invoice)
    workspace = _workspace_of(invoice)
    today = today or clock.today_in(workspace)
    if not invoice.lines:
        raise InvoiceStateError(_l("Add at least one line before issuing."))
    issue_date = invoice.issue_date or today
    if issue_date > today:
        raise InvoiceInputError(
            _l("The issue date cannot be later than today."), field="issue_date"
        )
    settings = workspace_settings(workspace.id)
    due_date = invoice.due_date or issue_date + timedelta(
        days=settings.payment_terms_days
    )
    _check_dates(issue_date, due_date)
    _recalculate_or_refuse(invoice)

    # Claim the draft first: of two requests issuing the same draft, the
    # second finds it issued here and never takes a number. The dates go
    # with the claim: the database's revenue totals count an issued invoice
    # on its issue and due dates the moment it becomes issued.
    claimed = db.session.execute(
        update(Invoice)
        .where(Invoice.id == invoice.id, Invoice.state == InvoiceState.DRAFT)
        .values(state=InvoiceState.ISSUED, issue_date=issue_date, due_date=due_date)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise InvoiceStateError(_l("This invoice has already been issued."))

    prefix = settings.invoice_prefix.replace("{year}", f"{issue_date.year:04d}")
    number = f"{prefix}{_next_number(workspace.id, prefix):0{settings.number_digits}d}"
    taken = db.session.scalar(
        select(Invoice.id).where(
            Invoice.workspace_id == workspace.id,
            Invoice.series == invoice.series,
            Invoice.number == number,
        )
    )
    if taken is not None:
        raise NumberingError(
            _l(
                "The number %(number)s is already used; change the numbering "
                "prefix in the billing settings.",
                number=number,
            )
        )

    invoice.state = InvoiceState.ISSUED
    invoice.number = number
    invoice.issue_date = issue_date
    invoice.due_date = due_date
    invoice.issued_at = clock.now_utc()
    audit.record(
        workspace.id,
        "invoice_issued",
        invoice_id=invoice.id,
        user_id=actor_id,
        detail=number,
    )
    db.session.flush()
    logger.info("invoice %s issued by %s", invoice.id, actor_id)
    return invoice


def void(invoice: Invoice, *, reason: str, actor_id: int | None) -> None:
    """Void an issued invoice; its number stays used and its portal links end."""
    reason = (reason or "").strip()
    if invoice.state == InvoiceState.DRAFT:
        raise InvoiceStateError(
            _l("A draft has no number to void; delete the draft instead.")
        )
    if invoice.state == InvoiceState.VOID:
        raise InvoiceStateError(_l("This invoice is already void."))
    if not reason:
        raise InvoiceInputError(_l("Say why the invoice is voided."), field="reason")
    if len(reason) > MAX_VOID_REASON:
        raise InvoiceInputError(
            _l("The reason is too long (at most %(n)s characters).", n=MAX_VOID_REASON),
            field="reason",
        )

    _lock_issued(invoice)
    if _paid_in_db(invoice.id) > 0:
        raise InvoiceStateError(
            _l("This invoice has payments recorded, so it cannot be voided.")
        )
    now = clock.now_utc()
    invoice.state = InvoiceState.VOID
    invoice.voided_at = now
    invoice.void_reason = reason
    db.session.execute(
        update(PortalToken)
        .where(PortalToken.invoice_id == invoice.id, PortalToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        invoice.workspace_id,
        "invoice_voided",
        invoice_id=invoice.id,
        user_id=actor_id,
        detail=reason,
    )
    db.session.flush()
    logger.info("invoice %s voided by %s", invoice.id, actor_id)


# --- payments -----------------------------------------------------------------


def record_payment(
    invoice: Invoice,
    *,
    amount_minor: int,
    paid_on: date,
    method: str = "transfer",
    reference: str | None = None,
    actor_id: int | None = None,
    today: date | None = None,
) -> Payment:
    """Record a payment, partial or whole; more than the balance is refused."""
    if invoice.state != InvoiceState.ISSUED:
        raise PaymentError(_l("Payments can only be recorded on issued invoices."))
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise PaymentError(_l("The amount is not valid."), field="amount")
    if amount_minor <= 0:
        raise PaymentError(_l("The amount must be greater than zero."), field="amount")
    if amount_minor > MAX_MINOR:
        raise PaymentError(_l("The amount is too large."), field="amount")
    today = today or clock.today_in(_workspace_of(invoice))
    if not isinstance(paid_on, date) or not FIRST_DATE <= paid_on <= LAST_DATE:
        raise PaymentError(_l("The payment date is not valid."), field="paid_on")
    if paid_on > today:
        raise PaymentError(
            _l("The payment date cannot be later than today."), field="paid_on"
        )
    if method not in PAYMENT_METHODS:
        raise PaymentError(_l("Choose a payment method."), field="method")
    reference = (reference or "").strip()
    if len(reference) > MAX_REFERENCE:
        raise PaymentError(
            _l(
                "The reference is too long (at most %(n)s characters).", n=MAX_REFERENCE
            ),
            field="reference",
        )

    # Lock the invoice before reading what is paid, so that two payments
    # recorded at once cannot both fit into the same balance.
    _lock_issued(invoice)
    balance = max(invoice.total_minor - _paid_in_db(invoice.id), 0)
    if amount_minor > balance:
        amount = format_plain(amount_minor, invoice.currency)
        owed = format_plain(balance, invoice.currency)
        raise OverpaymentError(
            _l(
                "The payment of %(amount)s %(currency)s is more than the "
                "%(balance)s %(currency)s still owed on this invoice.",
                amount=amount,
                balance=owed,
                currency=invoice.currency,
            ),
            balance_minor=balance,
        )

    payment = Payment(
        workspace_id=invoice.workspace_id,
        invoice_id=invoice.id,
        paid_on=paid_on,
        amount_minor=amount_minor,
        method=method,
        reference=reference or None,
        recorded_by_id=actor_id,
    )
    invoice.payments.append(payment)
    audit.record(
        invoice.workspace_id,
        "payment_recorded",
        invoice_id=invoice.id,
        user_id=actor_id,
        detail=f"{format_plain(amount_minor, invoice.currency)} {invoice.currency}",
    )
    db.session.flush()
    logger.info("payment recorded on invoice %s by %s", invoice.id, actor_id)
    return payment


def paid_minor(invoice: Invoice) -> int:
    """What the payments of the invoice add up to."""
    return sum(payment.amount_minor for payment in invoice.payments)


def balance_minor(invoice: Invoice) -> int:
    """What is still owed: zero for drafts, void invoices and paid ones."""
    if invoice.state != InvoiceState.ISSUED:
        return 0
    return max(invoice.total_minor - paid_minor(invoice), 0)


def status_of(invoice: Invoice, today: date | None = None) -> str:
    """draft, void, paid, pending or overdue, on ``today`` in the workspace's zone."""
    if invoice.state == InvoiceState.DRAFT:
        return "draft"
    if invoice.state == InvoiceState.VOID:
        return "void"
    if paid_minor(invoice) >= invoice.total_minor:
        return "paid"
    today = today or clock.today_in(_workspace_of(invoice))
    if invoice.due_date is not None and invoice.due_date < today:
        return "overdue"
    return "pending"


# --- the same rules in SQL ----------------------------------------------------


def status_expr(today: date) -> ColumnElement[str]:
    """:func:`status_of` as SQL, from the paid amount the database keeps on
    each invoice (``Invoice.paid_minor``, migration cf_0006).

    To group by it, build it once and give the same object to ``select()``
    and ``group_by()``: PostgreSQL accepts the grouping only when both carry
    the same parameters.
    """
    return case(
        (Invoice.state == InvoiceState.DRAFT, "draft"),
        (Invoice.state == InvoiceState.VOID, "void"),
        (Invoice.paid_minor >= Invoice.total_minor, "paid"),
        (Invoice.due_date < today, "overdue"),
        else_="pending",
    )


def balance_expr() -> ColumnElement[int]:
    """:func:`balance_minor` as SQL, from ``Invoice.paid_minor``."""
    return case(
        (
            and_(
                Invoice.state == InvoiceState.ISSUED,
                Invoice.total_minor > Invoice.paid_minor,
            ),
            Invoice.total_minor - Invoice.paid_minor,
        ),
        else_=0,
    )


def open_where() -> ColumnElement[bool]:
    """Issued and not covered by its payments: pending or overdue.

    In the very terms of ``Invoice.OPEN_SQL``, the condition of its partial
    index, with the state as a literal: a bound parameter in its place would
    keep the planners from matching that condition.
    """
    return and_(
        Invoice.state == literal_column("'issued'"),
        Invoice.paid_minor < Invoice.total_minor,
    )


def unissued_where() -> ColumnElement[bool]:
    """Drafts and voids, in the terms of ``Invoice.UNISSUED_SQL`` (as above)."""
    return Invoice.state != literal_column("'issued'")


def status_where(status: str, today: date) -> ColumnElement[bool]:
    """The invoices of one derived status, as a condition on stored columns.

    The rules of :func:`status_of`, written so that the database finds the
    rows through an index instead of working out every invoice's status.
    """
    if status == "paid":
        return and_(
            Invoice.state == literal_column("'issued'"),
            Invoice.paid_minor >= Invoice.total_minor,
        )
    if status == "overdue":
        return and_(open_where(), Invoice.due_date < today)
    if status == "pending":
        return and_(
            open_where(), or_(Invoice.due_date >= today, Invoice.due_date.is_(None))
        )
    if status in (InvoiceState.DRAFT, InvoiceState.VOID):
        return Invoice.state == status
    raise ValueError(f"unknown status: {status!r}")


# --- helpers ------------------------------------------------------------------


def _workspace_of(invoice: Invoice) -> Workspace:
    return db.session.get(Workspace, invoice.workspace_id)


def require_draft(invoice: Invoice) -> None:
    """Raise :class:`ImmutableInvoiceError` unless the invoice is a draft."""
    if invoice.state == InvoiceState.ISSUED:
        raise ImmutableInvoiceError(
            _l(
                "Invoice %(number)s has been issued and can no longer be changed; "
                "void it if it is wrong.",
                number=invoice.number,
            )
        )
    if invoice.state != InvoiceState.DRAFT:
        raise ImmutableInvoiceError(
            _l(
                "Invoice %(number)s is void and can no longer be changed.",
                number=invoice.number,
            )
        )


def _line_of(invoice: Invoice, line_id: int) -> InvoiceLine:
    for line in invoice.lines:
        if line.id == line_id:
            return line
    raise InvoiceInputError(_l("That line is not on this invoice."), field="line")


def _lock_issued(invoice: Invoice) -> None:
    """Take the invoice's row lock (SQLite: the write lock) and check it is issued."""
    locked = db.session.execute(
        update(Invoice)
        .where(Invoice.id == invoice.id, Invoice.state == InvoiceState.ISSUED)
        .values(state=Invoice.state)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:
        raise InvoiceStateError(_l("This invoice is no longer issued."))


def _paid_in_db(invoice_id: int) -> int:
    # Flush first so payments added in this session are counted.
    db.session.flush()
    return db.session.scalar(
        select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
            Payment.invoice_id == invoice_id
        )
    )


def _next_number(workspace_id: int, prefix: str) -> int:
    """Bump the sequence of ``prefix`` in one atomic statement and return it.

    The row is created when missing with an insert that ignores a concurrent
    one; the UPDATE then holds the row lock until the caller commits, so
    concurrent issuers wait for each other and never share a number.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(
        insert(NumberSequence)
        .values(workspace_id=workspace_id, prefix=prefix, last_number=0)
        .on_conflict_do_nothing(index_elements=["workspace_id", "prefix"])
    )
    return db.session.execute(
        update(NumberSequence)
        .where(
            NumberSequence.workspace_id == workspace_id,
            NumberSequence.prefix == prefix,
        )
        .values(last_number=NumberSequence.last_number + 1)
        .returning(NumberSequence.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()


def _check_dates(issue_date: date | None, due_date: date | None) -> None:
    for value, name in ((issue_date, "issue_date"), (due_date, "due_date")):
        if value is None:
            continue
        if not isinstance(value, date) or not FIRST_DATE <= value <= LAST_DATE:
            raise InvoiceInputError(
                _l(
                    "Dates must be between %(first)s and %(last)s.",
                    first=FIRST_DATE.isoformat(),
                    last=LAST_DATE.isoformat(),
                ),
                field=name,
            )
    if issue_date and due_date and due_date < issue_date:
        raise InvoiceInputError(
            _l("The due date cannot be before the issue date."), field="due_date"
        )


def _check_terms(terms: str | None) -> str:
    terms = (terms or "").strip()
    if len(terms) > MAX_TERMS:
        raise InvoiceInputError(
            _l("The terms are too long (at most %(n)s characters).", n=MAX_TERMS),
            field="terms",
        )
    return terms


def _check_discount(discount_minor: int) -> int:
    if isinstance(discount_minor, bool) or not isinstance(discount_minor, int):
        raise InvoiceInputError(_l("The discount is not valid."), field="discount")
    if discount_minor < 0:
        raise InvoiceInputError(
            _l("The discount cannot be negative."), field="discount"
        )
    if discount_minor > MAX_MINOR:
        raise InvoiceInputError(_l("The discount is too large."), field="discount")
    return discount_minor


def _check_line_count(count: int) -> None:
    if count > MAX_LINES:
        raise InvoiceInputError(
            _l("An invoice has at most %(n)s lines.", n=MAX_LINES), field="line"
        )


def _decimal(value: Any, name: str) -> Decimal:
    if isinstance(value, float | bool):
        raise InvoiceInputError(_l("The number is not valid."), field=name)
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise InvoiceInputError(_l("The number is not valid."), field=name) from None
    if not number.is_finite():
        raise InvoiceInputError(_l("The number is not valid."), field=name)
    if number.normalize().as_tuple().exponent < -QUANTITY_PLACES:
        raise InvoiceInputError(
            _l("Use at most %(n)s decimal places.", n=QUANTITY_PLACES), field=name
        )
    return number


def _checked_line(
    workspace_id: int, client_id: int, data: LineData, archived_ok: set[int]
) -> tuple[dict[str, Any], list[TaxRate]]:
    """The column values and tax rates of a line, or a clear refusal."""
    if data.kind not in set(LineKind):
        raise InvoiceInputError(_l("Choose hours, product or service."), field="kind")
    description = (data.description or "").strip()
    if not description:
        raise InvoiceInputError(_l("Describe the line."), field="description")
    if len(description) > MAX_DESCRIPTION:
        raise InvoiceInputError(
            _l(
                "The description is too long (at most %(n)s characters).",
                n=MAX_DESCRIPTION,
            ),
            field="description",
        )
    quantity = _decimal(data.quantity, "quantity")
    if quantity <= 0:
        raise InvoiceInputError(
            _l("The quantity must be greater than zero."), field="quantity"
        )
    if quantity > MAX_QUANTITY:
        raise InvoiceInputError(_l("The quantity is too large."), field="quantity")
    price = data.unit_price_minor
    if isinstance(price, bool) or not isinstance(price, int):
        raise InvoiceInputError(_l("The unit price is not valid."), field="unit_price")
    if price < 0:
        raise InvoiceInputError(
            _l("The unit price cannot be negative."), field="unit_price"
        )
    if price > MAX_MINOR:
        raise InvoiceInputError(_l("The unit price is too large."), field="unit_price")
    discount = _decimal(data.discount_percent, "discount_percent")
    if not 0 <= discount <= 100:
        raise InvoiceInputError(
            _l("A line discount is a percentage from 0 to 100."),
            field="discount_percent",
        )
    _check_hour_pack(workspace_id, client_id, data.hour_pack_id)
    rates = _rates_for(workspace_id, data.tax_rate_ids, archived_ok)
    values = {
        "kind": str(data.kind),
        "description": description,
        "quantity": quantity,
        "unit_price_minor": price,
        "discount_percent": discount,
        "hour_pack_id": data.hour_pack_id,
    }
    return values, rates


def _check_hour_pack(workspace_id: int, client_id: int, pack_id: int | None) -> None:
    if pack_id is None:
        return
    pack = None
    if _is_id(pack_id):
        pack = db.session.get(HourPack, pack_id)
    if pack is None or pack.workspace_id != workspace_id or pack.client_id != client_id:
        raise InvoiceInputError(
            _l("That hour pack does not belong to this client."), field="hour_pack"
        )


def _rates_for(
    workspace_id: int, rate_ids: Iterable[int], archived_ok: set[int]
) -> list[TaxRate]:
    """The workspace's rates with these ids, in the order given, without repeats."""
    wanted: list[int] = []
    for rate_id in rate_ids or ():
        if not _is_id(rate_id):
            raise InvoiceInputError(_l("Unknown tax rate."), field="taxes")
        if rate_id not in wanted:
            wanted.append(rate_id)
    if not wanted:
        return []
    found = {
        rate.id: rate
        for rate in db.session.scalars(
            select(TaxRate).where(
                TaxRate.workspace_id == workspace_id, TaxRate.id.in_(wanted)
            )
        )
    }
    rates = []
    for rate_id in wanted:
        rate = found.get(rate_id)
        if rate is None:
            raise InvoiceInputError(_l("Unknown tax rate."), field="taxes")
        if rate.archived and rate_id not in archived_ok:
            raise InvoiceInputError(
                _l("The tax rate %(name)s is archived.", name=rate.name),
                field="taxes",
            )
        rates.append(rate)
    return rates


def _is_id(value: Any) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID
    )


def _new_line(position: int, values: dict[str, Any], rates: list[TaxRate]):
    line = InvoiceLine(position=position, **values)
    line.tax_rates = list(rates)
    return line


def _rate(rate: TaxRate, applied: dict[int, InvoiceTax] | None = None) -> totals.Rate:
    stored = (applied or {}).get(rate.id)
    if stored is not None:
        return totals.Rate(key=rate.id, name=stored.name, percent=Decimal(stored.rate))
    return totals.Rate(key=rate.id, name=rate.name, percent=Decimal(rate.rate))


def _line_input(values: dict[str, Any], rates: list[TaxRate]) -> totals.LineInput:
    return totals.LineInput(
        quantity=values["quantity"],
        unit_price_minor=values["unit_price_minor"],
        discount_percent=values["discount_percent"],
        rates=tuple(_rate(rate) for rate in rates),
    )


def _stored_line_input(
    line: InvoiceLine, invoice: Invoice, rates: list[TaxRate] | None = None
) -> totals.LineInput:
    applied = None
    if invoice.state != InvoiceState.DRAFT:
        applied = {tax.tax_rate_id: tax for tax in invoice.taxes}
    return totals.LineInput(
        quantity=Decimal(line.quantity),
        unit_price_minor=line.unit_price_minor,
        discount_percent=Decimal(line.discount_percent),
        rates=tuple(
            _rate(rate, applied)
            for rate in (line.tax_rates if rates is None else rates)
        ),
    )


def _compute_or_refuse(
    inputs: Sequence[totals.LineInput], discount_minor: int
) -> totals.Breakdown:
    try:
        return totals.compute(inputs, discount_minor)
    except MoneyError as exc:
        message, name = _money_message(exc)
        raise InvoiceInputError(message, field=name) from None


def _recalculate_or_refuse(invoice: Invoice) -> None:
    inputs = [_stored_line_input(line, invoice) for line in invoice.lines]
    _compute_or_refuse(inputs, invoice.discount_minor)
    recalculate(invoice)


def _money_message(exc: MoneyError) -> tuple[Any, str | None]:
    """An owner's message for a refusal of :func:`totals.compute`, and its field."""
    text = str(exc)
    if "discount is larger" in text:
        return _l("The invoice discount is larger than the lines' total."), "discount"
    if "too large" in text:
        return _l("The invoice total is too large."), None
    return _l("The amounts of this invoice are not valid."), None
