"""Forms of the recurring pages: templates, reminder schedule and hour packs.

Amounts and numbers are read as the reader types them, with the fields of
the billing forms, so a template line reads like an invoice line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from .. import recurrence, reminders
from ..hour_packs import MAX_HOURS
from ..invoices import MAX_DESCRIPTION, MAX_QUANTITY, MAX_TERMS
from ..models import LineKind
from .billing import (
    LINE_KINDS,
    AmountField,
    BillingForm,
    CheckboxesField,
    NumberField,
    date_in_range,
)

#: Empty rows offered under the lines, so lines can be added without JS.
SPARE_LINES = 2
NO_CLIENT = 0


class TemplateLineForm(Form):
    """One line of a template; a row left empty is ignored."""

    kind = SelectField(_l("Type"), choices=LINE_KINDS, default=LineKind.SERVICE.value)
    description = StringField(
        _l("Description"), validators=[Length(max=MAX_DESCRIPTION)]
    )
    quantity = NumberField(
        _l("Quantity"),
        minimum=Decimal("0.0001"),
        maximum=MAX_QUANTITY,
        default_value=Decimal(1),
    )
    unit_price = AmountField(_l("Unit price"))
    discount_percent = NumberField(
        _l("Discount %"),
        minimum=Decimal(0),
        maximum=Decimal(100),
        default_value=Decimal(0),
    )
    tax_rate_ids = CheckboxesField(_l("Taxes"), coerce=int)

    def is_blank(self) -> bool:
        return (
            not (self.description.data or "").strip()
            and not (self.unit_price.raw or "").strip()
        )


class TemplateForm(BillingForm):
    """A template: what it bills, to whom, and on which schedule."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Give the template a name.")),
            Length(max=recurrence.MAX_NAME),
        ],
    )
    kind = SelectField(
        _l("Kind"), choices=[(k, v) for k, v in recurrence.KIND_LABELS.items()]
    )
    client_id = SelectField(_l("Client"), coerce=int, default=NO_CLIENT)
    terms = TextAreaField(_l("Terms and notes"), validators=[Length(max=MAX_TERMS)])
    discount = AmountField(_l("Invoice discount"), required=False)
    due_days = IntegerField(
        _l("Payment due after (days)"),
        default=30,
        validators=[
            InputRequired(message=_l("Enter a number of days.")),
            NumberRange(min=0, max=recurrence.MAX_DUE_DAYS),
        ],
    )
    hours_in_pack = NumberField(
        _l("Hours in the pack"),
        minimum=Decimal(0),
        maximum=MAX_HOURS,
        default_value=Decimal(0),
    )
    frequency = SelectField(
        _l("Schedule"),
        choices=[
            ("none", _l("None: invoices made by hand")),
            ("monthly", _l("Monthly, from the first date")),
        ],
        default="none",
    )
    anchor_date = DateField(
        _l("First invoice on"), validators=[Optional(), date_in_range]
    )
    end_date = DateField(_l("Last invoice by"), validators=[Optional(), date_in_range])
    on_run = RadioField(
        _l("Each month"),
        choices=[(k, v) for k, v in recurrence.ON_RUN_LABELS.items()],
        default="draft",
    )
    active = BooleanField(_l("Schedule running"), default=True)
    lines = FieldList(FormField(TemplateLineForm), min_entries=1)

    def setup(
        self, clients: list[tuple[int, str]], rates: list[tuple[int, str]]
    ) -> None:
        """Give the choices of the workspace and the reader to every line."""
        self.client_id.choices = [
            (NO_CLIENT, str(_l("No fixed client: chosen for each invoice"))),
            *clients,
        ]
        for entry in self.lines:
            self._setup_line(entry.form, rates)
        self._rates = rates

    def _setup_line(self, line: TemplateLineForm, rates) -> None:
        line.currency = self.currency
        line.locale = self.locale
        line.tax_rate_ids.choices = rates
        for field in line:
            if isinstance(field, AmountField | NumberField):
                field.currency = self.currency
                field.locale = self.locale

    def add_spare_lines(self, count: int = SPARE_LINES) -> None:
        """Empty rows to type new lines into."""
        for _ in range(count):
            entry = self.lines.append_entry()
            self._setup_line(entry.form, self._rates)
            entry.form.unit_price.data = None

    def drop_blank_lines(self) -> None:
        """Forget the rows left empty, before validating."""
        kept = [entry for entry in self.lines.entries if not entry.form.is_blank()]
        self.lines.entries = kept
        self.lines.last_index = len(kept) - 1

    def to_data(self) -> recurrence.TemplateData:
        """The checked form as the domain's template data."""
        return recurrence.TemplateData(
            name=self.name.data or "",
            kind=self.kind.data,
            client_id=self.client_id.data or None,
            terms=self.terms.data or "",
            discount_minor=self.discount.data or 0,
            due_days=self.due_days.data,
            frequency=self.frequency.data,
            anchor_date=self.anchor_date.data,
            end_date=self.end_date.data,
            on_run=self.on_run.data,
            active=bool(self.active.data),
            hours_in_pack=self.hours_in_pack.data or None,
            lines=[
                recurrence.LineSpec(
                    kind=entry.form.kind.data,
                    description=entry.form.description.data or "",
                    quantity=entry.form.quantity.data,
                    unit_price_minor=entry.form.unit_price.data,
                    discount_percent=entry.form.discount_percent.data,
                    tax_rate_ids=tuple(entry.form.tax_rate_ids.data or ()),
                )
                for entry in self.lines
            ],
        )


def template_form_data(data: recurrence.TemplateData) -> dict[str, Any]:
    """Template data as the keyword arguments that prefill a ``TemplateForm``."""
    return {
        "name": data.name,
        "kind": data.kind,
        "client_id": data.client_id or NO_CLIENT,
        "terms": data.terms,
        "discount": data.discount_minor or None,
        "due_days": data.due_days,
        "hours_in_pack": data.hours_in_pack,
        "frequency": data.frequency,
        "anchor_date": data.anchor_date,
        "end_date": data.end_date,
        "on_run": data.on_run,
        "active": data.active,
        "lines": [
            {
                "kind": str(line.kind),
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price_minor,
                "discount_percent": line.discount_percent,
                "tax_rate_ids": list(line.tax_rate_ids),
            }
            for line in data.lines
        ],
    }


class InvoiceFromTemplateForm(FlaskForm):
    """The client of a new invoice, when the template has none."""

    client_id = SelectField(_l("Client"), coerce=int, default=NO_CLIENT)


class ReminderSettingsForm(FlaskForm):
    """The days after the due date on which overdue reminders go out."""

    reminder_days = StringField(
        _l("Reminder days after the due date"),
        description=_l(
            "Whole days separated by commas, e.g. 3, 10, 30. Leave empty to "
            "send no reminders."
        ),
        validators=[Length(max=64)],
    )

    def validate_reminder_days(self, field: StringField) -> None:
        try:
            steps = reminders.parse_steps(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
        field.data = reminders.format_steps(steps)


class RecordPackForm(BillingForm):
    """Hours a client has already bought, entered by hand."""

    client_id = SelectField(
        _l("Client"),
        coerce=int,
        validators=[InputRequired(message=_l("Choose a client."))],
    )
    template_id = SelectField(_l("Template for top-ups"), coerce=int, default=NO_CLIENT)
    hours_bought = NumberField(
        _l("Hours bought"), minimum=Decimal("0.01"), maximum=MAX_HOURS
    )
    warn_below = NumberField(
        _l("Warn under (hours)"),
        minimum=Decimal(0),
        maximum=MAX_HOURS,
        default_value=Decimal(5),
    )


class PackWarningForm(BillingForm):
    """The threshold under which a pack warns."""

    warn_below = NumberField(
        _l("Warn under (hours)"), minimum=Decimal(0), maximum=MAX_HOURS
    )
