"""Forms of the import page: the three files to check, and the confirmation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField
from wtforms.validators import AnyOf, InputRequired, Length, Optional

DECIMAL_CHOICES = [
    ("", _l("Report them as problems")),
    ("comma", _l("Comma is the decimal mark: 1.500 is one thousand five hundred")),
    ("point", _l("Point is the decimal mark: 1,500 is one thousand five hundred")),
]

FILE_LABELS = {
    "clients": _l("Clients"),
    "invoices": _l("Invoices (one row per line)"),
    "payments": _l("Payments"),
}


#: How the preview names client statuses and payment methods.
STATUS_LABELS = {
    "active": _l("Active"),
    "inactive": _l("Inactive"),
    "prospect": _l("Prospect"),
}
METHOD_LABELS = {
    "transfer": _l("Bank transfer"),
    "card": _l("Card"),
    "cash": _l("Cash"),
    "cheque": _l("Cheque"),
    "direct_debit": _l("Direct debit"),
    "other": _l("Other"),
}


class UploadForm(FlaskForm):
    """Up to three CSV files, checked without writing anything."""

    clients = FileField(FILE_LABELS["clients"])
    invoices = FileField(FILE_LABELS["invoices"])
    payments = FileField(FILE_LABELS["payments"])
    decimal = SelectField(
        _l("Numbers such as 1.500 or 1,500"),
        choices=DECIMAL_CHOICES,
        default="",
        validators=[Optional()],
    )


class ConfirmForm(FlaskForm):
    """Imports the files of a check that found no problem."""

    batch = HiddenField(validators=[InputRequired(), Length(min=16, max=64)])
    decimal = HiddenField(
        validators=[AnyOf([value for value, _label in DECIMAL_CHOICES])]
    )
