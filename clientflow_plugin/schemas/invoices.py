"""Invoices in the API: drafts as callers send them, invoices as the API shows them."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, fields, validate

from ..invoices import (
    FIRST_DATE,
    LAST_DATE,
    MAX_DESCRIPTION,
    MAX_LINES,
    MAX_REFERENCE,
    MAX_TERMS,
    PAYMENT_METHODS,
    STATUSES,
)
from ..models import LineKind
from ..money import from_minor
from .common import (
    Amount,
    DecimalString,
    Id,
    Minor,
    PageOut,
    PageQuery,
    Text,
)

LINE_KINDS = tuple(kind.value for kind in LineKind)


def InvoiceDate(**kwargs) -> fields.Date:  # noqa: N802  (reads like a field class)
    """A date the billing rules accept on invoices and payments."""
    return fields.Date(validate=validate.Range(min=FIRST_DATE, max=LAST_DATE), **kwargs)


def amounts(name: str, minor: int | None, currency: str) -> dict:
    """``{name: "12.34", name_minor: 1234}``: one amount in both forms."""
    minor = minor or 0
    return {name: str(from_minor(minor, currency)), f"{name}_minor": minor}


# --- what callers send ----------------------------------------------------------


class LineIn(Schema):
    """One line of a draft; its amounts are exact decimals in the major unit."""

    kind = fields.String(
        load_default=LineKind.SERVICE.value, validate=validate.OneOf(LINE_KINDS)
    )
    description = Text(MAX_DESCRIPTION, blank=False, required=True)
    quantity = DecimalString(
        load_default=Decimal(1), metadata={"description": "Hours or units, e.g. 7.5"}
    )
    unit_price = DecimalString(
        required=True, metadata={"description": "Price of one hour or unit"}
    )
    discount_percent = DecimalString(
        load_default=Decimal(0), metadata={"description": "Line discount, 0 to 100"}
    )
    tax_rate_ids = fields.List(
        Id(), load_default=list, validate=validate.Length(max=20)
    )


class InvoiceCreateIn(Schema):
    """A new draft; it gets its number when it is issued."""

    client_id = Id(required=True)
    lines = fields.List(
        fields.Nested(LineIn), required=True, validate=validate.Length(max=MAX_LINES)
    )
    discount = DecimalString(
        load_default=Decimal(0),
        metadata={"description": "Invoice discount, taken off before tax"},
    )
    terms = Text(MAX_TERMS, load_default="")
    issue_date = InvoiceDate(load_default=None, allow_none=True)
    due_date = InvoiceDate(load_default=None, allow_none=True)


class InvoiceIssueIn(Schema):
    """Issuing takes no input; an empty object is accepted for clients that send one."""


class PaymentIn(Schema):
    amount = DecimalString(required=True)
    paid_on = InvoiceDate(required=True)
    method = fields.String(
        load_default="transfer", validate=validate.OneOf(PAYMENT_METHODS)
    )
    reference = Text(MAX_REFERENCE, load_default="")


class InvoiceListQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(STATUSES))
    client_id = fields.Integer(
        strict=False, validate=validate.Range(min=1, max=2**31 - 1)
    )


# --- what the API answers ------------------------------------------------------


class InvoiceSummaryOut(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True, allow_none=True)
    state = fields.String(
        required=True, validate=validate.OneOf(("draft", "issued", "void"))
    )
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    client_id = fields.Integer(required=True)
    client_name = fields.String(required=True)
    currency = fields.String(required=True)
    issue_date = fields.Date(required=True, allow_none=True)
    due_date = fields.Date(required=True, allow_none=True)
    subtotal = Amount(required=True)
    subtotal_minor = Minor(required=True)
    discount = Amount(required=True)
    discount_minor = Minor(required=True)
    tax = Amount(required=True)
    tax_minor = Minor(required=True)
    total = Amount(required=True)
    total_minor = Minor(required=True)
    paid = Amount(required=True)
    paid_minor = Minor(required=True)
    balance = Amount(required=True)
    balance_minor = Minor(required=True)
    created_at = fields.DateTime(required=True)


class LineOut(Schema):
    id = fields.Integer(required=True)
    position = fields.Integer(required=True)
    kind = fields.String(required=True)
    description = fields.String(required=True)
    quantity = fields.String(required=True)
    unit_price = Amount(required=True)
    unit_price_minor = Minor(required=True)
    discount_percent = fields.String(required=True)
    net = Amount(required=True)
    net_minor = Minor(required=True)
    tax_rate_ids = fields.List(fields.Integer(), required=True)


class TaxOut(Schema):
    tax_rate_id = fields.Integer(required=True, allow_none=True)
    name = fields.String(required=True)
    rate = fields.String(required=True, metadata={"description": "Percent, e.g. 21"})
    base = Amount(required=True)
    base_minor = Minor(required=True)
    amount = Amount(required=True)
    amount_minor = Minor(required=True)


class PaymentOut(Schema):
    id = fields.Integer(required=True)
    paid_on = fields.Date(required=True)
    amount = Amount(required=True)
    amount_minor = Minor(required=True)
    method = fields.String(required=True)
    reference = fields.String(required=True)


class InvoiceOut(InvoiceSummaryOut):
    terms = fields.String(required=True)
    issued_at = fields.DateTime(required=True, allow_none=True)
    sent_at = fields.DateTime(required=True, allow_none=True)
    voided_at = fields.DateTime(required=True, allow_none=True)
    lines = fields.List(fields.Nested(LineOut), required=True)
    taxes = fields.List(fields.Nested(TaxOut), required=True)
    payments = fields.List(fields.Nested(PaymentOut), required=True)


class InvoicePageOut(PageOut):
    items = fields.List(fields.Nested(InvoiceSummaryOut), required=True)


# --- shaping ------------------------------------------------------------------------


def invoice_summary(
    invoice, *, status: str, paid_minor: int, balance_minor: int
) -> dict:
    """The fields of an invoice shown in lists."""
    currency = invoice.currency
    return {
        "id": invoice.id,
        "number": invoice.number,
        "state": invoice.state,
        "status": status,
        "client_id": invoice.client_id,
        "client_name": invoice.client.name,
        "currency": currency,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        **amounts("subtotal", invoice.subtotal_minor, currency),
        **amounts("discount", invoice.discount_minor, currency),
        **amounts("tax", invoice.tax_minor, currency),
        **amounts("total", invoice.total_minor, currency),
        **amounts("paid", paid_minor, currency),
        **amounts("balance", balance_minor, currency),
        "created_at": invoice.created_at,
    }


def invoice_detail(
    invoice, *, status: str, paid_minor: int, balance_minor: int
) -> dict:
    """An invoice with its lines, taxes and payments."""
    currency = invoice.currency
    data = invoice_summary(
        invoice, status=status, paid_minor=paid_minor, balance_minor=balance_minor
    )
    data.update(
        terms=invoice.terms,
        issued_at=invoice.issued_at,
        sent_at=invoice.sent_at,
        voided_at=invoice.voided_at,
        lines=[
            {
                "id": line.id,
                "position": line.position,
                "kind": line.kind,
                "description": line.description,
                "quantity": _plain(line.quantity),
                **amounts("unit_price", line.unit_price_minor, currency),
                "discount_percent": _plain(line.discount_percent),
                **amounts("net", line.net_minor, currency),
                "tax_rate_ids": [rate.id for rate in line.tax_rates],
            }
            for line in invoice.lines
        ],
        taxes=[
            {
                "tax_rate_id": tax.tax_rate_id,
                "name": tax.name,
                "rate": _plain(tax.rate),
                **amounts("base", tax.base_minor, currency),
                **amounts("amount", tax.amount_minor, currency),
            }
            for tax in invoice.taxes
        ],
        payments=[
            {
                "id": payment.id,
                "paid_on": payment.paid_on,
                **amounts("amount", payment.amount_minor, currency),
                "method": payment.method,
                "reference": payment.reference or "",
            }
            for payment in invoice.payments
        ],
    )
    return data


def _plain(value) -> str:
    """A stored decimal without trailing zeros: 7.5000 → "7.5", 21.0000 → "21"."""
    text = format(value.normalize(), "f")
    return text
