"""Forms of the billing pages: amounts and numbers as the reader types them.

Amounts are read with :func:`money.parse_amount` in the reader's language
("1.234,56" in Spanish) and the invoice's currency, so an amount with more
decimals than the currency has is refused here with a clear message rather
than rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from ..invoices import (
    FIRST_DATE,
    LAST_DATE,
    MAX_DESCRIPTION,
    MAX_QUANTITY,
    MAX_REFERENCE,
    MAX_TERMS,
    MAX_VOID_REASON,
    QUANTITY_PLACES,
)
from ..models import LineKind
from ..money import MoneyError, exponent, from_minor, parse_amount
from ..taxes import MAX_NAME, MAX_REGION

LINE_KINDS = (
    (LineKind.HOURS.value, _l("Hours")),
    (LineKind.SERVICE.value, _l("Service")),
    (LineKind.PRODUCT.value, _l("Product")),
)

PAYMENT_METHOD_LABELS = {
    "transfer": _l("Bank transfer"),
    "card": _l("Card"),
    "cash": _l("Cash"),
    "cheque": _l("Cheque"),
    "direct_debit": _l("Direct debit"),
    "other": _l("Other"),
}

# What a prefix may hold once ``{year}`` is taken out: no other placeholder.
PREFIX_CHARS = re.compile(r"^[A-Za-z0-9 ._/#-]*$")


def amount_for_input(minor: int | None, currency: str, locale: str) -> str:
    """An amount as the reader would type it: "1.234,50" in Spanish."""
    if minor is None:
        return ""
    places = exponent(currency)
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(from_minor(minor, currency), pattern, locale=locale)


def number_for_input(value: Decimal | None, locale: str) -> str:
    """A quantity or percentage as the reader would type it, without grouping."""
    if value is None:
        return ""
    return format_decimal(
        Decimal(value).normalize(), "0.####", locale=locale, group_separator=False
    )


def parse_number(text: str, locale: str) -> Decimal:
    """A decimal typed by a person in ``locale``; ``ValueError`` when it is not."""
    cleaned = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if not cleaned:
        raise ValueError("empty")
    try:
        value = parse_decimal(cleaned, locale=locale, strict=True)
    except NumberFormatError:
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(cleaned) from None
    if not value.is_finite():
        raise ValueError(cleaned)
    return value


class BillingForm(FlaskForm):
    """A form that knows the currency and the reader's language."""

    def __init__(self, *args: Any, currency: str = "EUR", locale: str = "en", **kw):
        self.currency = currency
        self.locale = locale
        super().__init__(*args, **kw)
        # Fields have no link to their form; they need these to show values.
        for field in self:
            if isinstance(field, AmountField | NumberField):
                field.currency = currency
                field.locale = locale


class AmountField(StringField):
    """An amount in the form's currency; ``data`` is in minor units."""

    def __init__(self, *args: Any, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.required = required
        self.raw = ""
        self.currency = "EUR"
        self.locale = "en"

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw = valuelist[0] if valuelist else ""
        self.data = None

    def pre_validate(self, form: BillingForm) -> None:
        if not self.raw.strip():
            if self.required:
                raise ValidationError(_l("Enter an amount."))
            self.data = 0
            return
        try:
            self.data = parse_amount(self.raw, form.currency, form.locale)
        except MoneyError as exc:
            self.data = None
            raise ValidationError(_amount_message(exc, form)) from None
        if self.data < 0:
            self.data = None
            raise ValidationError(_l("The amount cannot be negative."))

    def _value(self) -> str:
        if self.raw:
            return self.raw
        if self.data is None:
            return ""
        return amount_for_input(self.data, self.currency, self.locale)


class NumberField(StringField):
    """A decimal in the reader's language ("1,5" hours in Spanish)."""

    def __init__(
        self,
        *args: Any,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        default_value: Decimal | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.minimum = minimum
        self.maximum = maximum
        self.default_value = default_value
        self.raw = ""
        self.locale = "en"

    def process_formdata(self, valuelist: list[str]) -> None:
        self.raw = valuelist[0] if valuelist else ""
        self.data = None

    def pre_validate(self, form: BillingForm) -> None:
        if not self.raw.strip():
            if self.default_value is None:
                raise ValidationError(_l("Enter a number."))
            self.data = self.default_value
            return
        try:
            value = parse_number(self.raw, form.locale)
        except ValueError:
            raise ValidationError(
                _l("Enter a number, e.g. %(example)s.", example=_example(form))
            ) from None
        if value.normalize().as_tuple().exponent < -QUANTITY_PLACES:
            raise ValidationError(
                _l("Use at most %(n)s decimal places.", n=QUANTITY_PLACES)
            )
        if self.minimum is not None and value < self.minimum:
            raise ValidationError(
                _l(
                    "Enter at least %(n)s.",
                    n=number_for_input(self.minimum, form.locale),
                )
            )
        if self.maximum is not None and value > self.maximum:
            raise ValidationError(
                _l(
                    "Enter at most %(n)s.",
                    n=number_for_input(self.maximum, form.locale),
                )
            )
        self.data = value

    def _value(self) -> str:
        if self.raw:
            return self.raw
        if self.data is None:
            return ""
        return number_for_input(self.data, self.locale)


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes, usable without JavaScript."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form: FlaskForm) -> None:
        if self.data:
            allowed = {value for value, _label in self.choices}
            if any(value not in allowed for value in self.data):
                raise ValidationError(_l("Unknown tax rate."))


def _example(form: BillingForm) -> str:
    return number_for_input(Decimal("1.5"), form.locale)


def _amount_message(exc: MoneyError, form: BillingForm) -> Any:
    text = str(exc)
    places = exponent(form.currency)
    if "decimal places" in text:
        if places == 0:
            return _l("%(currency)s amounts have no decimals.", currency=form.currency)
        return _l(
            "%(currency)s amounts have at most %(n)s decimal places.",
            currency=form.currency,
            n=places,
        )
    if "too large" in text:
        return _l("The amount is too large.")
    example = amount_for_input(123456 * 10**places // 100, form.currency, form.locale)
    return _l("Enter an amount, e.g. %(example)s.", example=example)


def date_in_range(form: FlaskForm, field: DateField) -> None:
    """Business dates between the first and last the domain accepts."""
    if field.data is not None and not FIRST_DATE <= field.data <= LAST_DATE:
        raise ValidationError(
            _l(
                "Enter a date between %(first)s and %(last)s.",
                first=FIRST_DATE.isoformat(),
                last=LAST_DATE.isoformat(),
            )
        )


class ClientChoiceForm(FlaskForm):
    """Step 1: the client to bill."""

    client_id = SelectField(
        _l("Client"),
        coerce=int,
        validate_choice=True,
        validators=[InputRequired(message=_l("Choose a client."))],
    )


class LineForm(BillingForm):
    """Step 2: one line, added or edited."""

    kind = SelectField(_l("Type"), choices=LINE_KINDS, default=LineKind.SERVICE.value)
    description = StringField(
        _l("Description"),
        validators=[
            DataRequired(message=_l("Describe the line.")),
            Length(max=MAX_DESCRIPTION),
        ],
    )
    quantity = NumberField(
        _l("Quantity or hours"),
        minimum=Decimal("0.0001"),
        maximum=MAX_QUANTITY,
        default_value=Decimal(1),
    )
    unit_price = AmountField(_l("Unit price or hourly rate"))
    discount_percent = NumberField(
        _l("Line discount %"),
        minimum=Decimal(0),
        maximum=Decimal(100),
        default_value=Decimal(0),
    )


class LineEditForm(LineForm):
    """A line with its tax rates, as the edit page shows it."""

    tax_rate_ids = CheckboxesField(_l("Taxes"), coerce=int)


class DetailsForm(BillingForm):
    """Step 4: dates, the invoice discount and the terms."""

    issue_date = DateField(
        _l("Issue date"),
        validators=[Optional(), date_in_range],
        render_kw={"min": FIRST_DATE.isoformat(), "max": LAST_DATE.isoformat()},
    )
    due_date = DateField(
        _l("Due date"),
        validators=[Optional(), date_in_range],
        render_kw={"min": FIRST_DATE.isoformat(), "max": LAST_DATE.isoformat()},
    )
    discount = AmountField(_l("Invoice discount"), required=False)
    terms = TextAreaField(_l("Terms and notes"), validators=[Length(max=MAX_TERMS)])


class PaymentForm(BillingForm):
    """A payment received, whole or partial."""

    amount = AmountField(_l("Amount"))
    paid_on = DateField(
        _l("Date received"),
        validators=[
            InputRequired(message=_l("Enter the date the payment arrived.")),
            date_in_range,
        ],
    )
    method = SelectField(
        _l("Method"), choices=list(PAYMENT_METHOD_LABELS.items()), default="transfer"
    )
    reference = StringField(_l("Reference"), validators=[Length(max=MAX_REFERENCE)])


class VoidForm(FlaskForm):
    """Voiding an issued invoice, with the reason kept in the audit trail."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(message=_l("Say why the invoice is voided.")),
            Length(max=MAX_VOID_REASON),
        ],
    )


class ActionForm(FlaskForm):
    """A button that posts: only the CSRF token."""


class NumberingForm(FlaskForm):
    """The billing settings: numbering and payment terms."""

    invoice_prefix = StringField(
        _l("Number prefix"),
        validators=[Length(max=32)],
        description=_l("{year} becomes the year of issue: {year}- gives 2026-0042."),
    )
    number_digits = IntegerField(
        _l("Digits"),
        validators=[
            InputRequired(message=_l("Enter a number of digits.")),
            NumberRange(min=1, max=10),
        ],
    )
    payment_terms_days = IntegerField(
        _l("Payment terms (days)"),
        validators=[
            InputRequired(message=_l("Enter the payment terms in days.")),
            NumberRange(min=0, max=365),
        ],
    )

    def validate_invoice_prefix(self, field: StringField) -> None:
        value = (field.data or "").strip()
        if not PREFIX_CHARS.match(value.replace("{year}", "")):
            raise ValidationError(
                _l(
                    "Use letters, digits, spaces and - . / _ # only, "
                    "plus {year} for the year."
                )
            )
        field.data = value


class TaxRateForm(FlaskForm):
    """A tax rate of the workspace; negative for a withholding."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Give the rate a name.")),
            Length(max=MAX_NAME),
        ],
    )
    rate = StringField(
        _l("Rate %"),
        validators=[DataRequired(message=_l("Enter a percentage, e.g. 21 or -15."))],
        description=_l("Negative for a withholding, e.g. -15."),
    )
    region = StringField(
        _l("Region"),
        validators=[Length(max=MAX_REGION)],
        description=_l("A country or region code such as ES, ES-CN or MX."),
    )
    default_for_region = BooleanField(_l("Propose for clients of this region"))
