"""Forms of the clients area: client, project, interaction, message, filters."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Form, SelectField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length, Optional, ValidationError

from ..clients import (
    BODY_MAX,
    LINE_FIELDS,
    PROJECT_NAME_MAX,
    SUBJECT_MAX,
    SUMMARY_MAX,
    TEXT_FIELDS,
)
from ..clients import ValidationError as DomainValidationError
from ..models import ClientStatus, InteractionKind, ProjectStatus

CLIENT_STATUS_LABELS = {
    ClientStatus.ACTIVE.value: _l("Active"),
    ClientStatus.INACTIVE.value: _l("Inactive"),
    ClientStatus.PROSPECT.value: _l("Prospect"),
}

PROJECT_STATUS_LABELS = {
    ProjectStatus.ACTIVE.value: _l("Active"),
    ProjectStatus.PAUSED.value: _l("Paused"),
    ProjectStatus.COMPLETED.value: _l("Completed"),
    ProjectStatus.CANCELLED.value: _l("Cancelled"),
}

INTERACTION_KIND_LABELS = {
    InteractionKind.CALL.value: _l("Call"),
    InteractionKind.EMAIL.value: _l("Email"),
    InteractionKind.MEETING.value: _l("Meeting"),
    InteractionKind.NOTE.value: _l("Note"),
}

SORT_LABELS = {
    "name": _l("Name"),
    "revenue": _l("Billed to date"),
    "last_interaction": _l("Last interaction"),
}

VIEW_LABELS = {
    "current": _l("Current clients"),
    "archived": _l("Archived clients"),
    "all": _l("All clients"),
}


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _length(limit: int) -> Length:
    return Length(max=limit, message=_l("Use at most %(max)d characters."))


def _required() -> InputRequired:
    return InputRequired(message=_l("This field is required."))


def _choices(labels: dict) -> list[tuple[str, Any]]:
    return list(labels.items())


class ClientForm(FlaskForm):
    """A client's contact and billing details."""

    name = StringField(
        _l("Name"),
        filters=[_strip],
        validators=[_required(), _length(LINE_FIELDS["name"])],
    )
    company = StringField(
        _l("Company"), filters=[_strip], validators=[_length(LINE_FIELDS["company"])]
    )
    email = StringField(
        _l("Email"),
        filters=[_strip],
        validators=[
            Optional(),
            _length(LINE_FIELDS["email"]),
            Email(
                message=_l("Enter a valid email address, e.g. ana@example.com."),
                check_deliverability=False,
            ),
        ],
        render_kw={"type": "email", "autocomplete": "email"},
    )
    phone = StringField(
        _l("Phone"),
        filters=[_strip],
        validators=[_length(LINE_FIELDS["phone"])],
        render_kw={"type": "tel", "autocomplete": "tel"},
    )
    website = StringField(
        _l("Website"),
        filters=[_strip],
        validators=[_length(LINE_FIELDS["website"])],
        render_kw={"placeholder": "https://"},
    )
    address = TextAreaField(
        _l("Address"),
        filters=[_strip],
        validators=[_length(TEXT_FIELDS["address"])],
        render_kw={"rows": 3},
    )
    region = StringField(
        _l("Region"),
        filters=[_strip],
        validators=[_length(LINE_FIELDS["region"])],
        render_kw={"list": "cf-regions", "autocomplete": "off"},
    )
    status = SelectField(
        _l("Status"),
        choices=_choices(CLIENT_STATUS_LABELS),
        default=ClientStatus.ACTIVE.value,
        validate_choice=False,
    )
    tax_id = StringField(
        _l("Tax id"), filters=[_strip], validators=[_length(LINE_FIELDS["tax_id"])]
    )
    billing_address = TextAreaField(
        _l("Billing address"),
        filters=[_strip],
        validators=[_length(TEXT_FIELDS["billing_address"])],
        render_kw={"rows": 3},
    )
    bank_details = TextAreaField(
        _l("Bank details"),
        filters=[_strip],
        validators=[_length(TEXT_FIELDS["bank_details"])],
        render_kw={"rows": 2},
    )
    billing_notes = TextAreaField(
        _l("Billing notes"),
        filters=[_strip],
        validators=[_length(TEXT_FIELDS["billing_notes"])],
        render_kw={"rows": 3},
    )

    #: The fields handed to the domain, in the order of the form.
    DATA_FIELDS = (
        "name",
        "company",
        "email",
        "phone",
        "website",
        "address",
        "region",
        "status",
        "tax_id",
        "billing_address",
        "bank_details",
        "billing_notes",
    )

    def validate_status(self, field) -> None:
        # Checked here rather than by WTForms so the message says what to pick.
        if field.data not in CLIENT_STATUS_LABELS:
            raise ValidationError(_l("Choose active, inactive or prospect."))

    def client_data(self) -> dict[str, Any]:
        return {name: self[name].data for name in self.DATA_FIELDS}


class ProjectForm(FlaskForm):
    name = StringField(
        _l("Project name"),
        filters=[_strip],
        validators=[_required(), _length(PROJECT_NAME_MAX)],
    )
    status = SelectField(
        _l("Status"),
        choices=_choices(PROJECT_STATUS_LABELS),
        default=ProjectStatus.ACTIVE.value,
        validate_choice=False,
    )
    start_date = DateField(
        _l("Start date"),
        validators=[Optional()],
        render_kw={"type": "date"},
    )
    end_date = DateField(
        _l("End date"),
        validators=[Optional()],
        render_kw={"type": "date"},
    )

    def validate_status(self, field) -> None:
        if field.data not in PROJECT_STATUS_LABELS:
            raise ValidationError(_l("Choose active, paused, completed or cancelled."))

    def validate_end_date(self, field) -> None:
        start = self.start_date.data
        if field.data and start and field.data < start:
            raise ValidationError(_l("The end date cannot be before the start date."))

    def project_data(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "status": self.status.data,
            "start_date": self.start_date.data,
            "end_date": self.end_date.data,
        }


class ProjectStatusForm(FlaskForm):
    """The status select of one row of the projects table."""

    status = SelectField(
        _l("Status"), choices=_choices(PROJECT_STATUS_LABELS), validate_choice=False
    )

    def validate_status(self, field) -> None:
        if field.data not in PROJECT_STATUS_LABELS:
            raise ValidationError(_l("Choose active, paused, completed or cancelled."))


class InteractionForm(FlaskForm):
    kind = SelectField(
        _l("Kind"),
        choices=_choices(INTERACTION_KIND_LABELS),
        default=InteractionKind.CALL.value,
        validate_choice=False,
    )
    occurred_on = DateField(
        _l("Date"),
        validators=[InputRequired(message=_l("Enter the date."))],
        render_kw={"type": "date"},
    )
    summary = TextAreaField(
        _l("Summary"),
        filters=[_strip],
        validators=[_required(), _length(SUMMARY_MAX)],
        render_kw={"rows": 3},
    )

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._today = today
        if today is not None:
            self.occurred_on.render_kw = {"type": "date", "max": today.isoformat()}
            if self.occurred_on.data is None and not self.is_submitted():
                self.occurred_on.data = today

    def validate_kind(self, field) -> None:
        if field.data not in INTERACTION_KIND_LABELS:
            raise ValidationError(_l("Choose call, email, meeting or note."))

    def validate_occurred_on(self, field) -> None:
        if self._today is not None and field.data and field.data > self._today:
            raise ValidationError(_l("An interaction cannot be in the future."))


class MessageForm(FlaskForm):
    subject = StringField(
        _l("Subject"),
        filters=[_strip],
        validators=[_required(), _length(SUBJECT_MAX)],
    )
    body = TextAreaField(
        _l("Message"),
        filters=[_strip],
        validators=[_required(), _length(BODY_MAX)],
        render_kw={"rows": 10},
    )


class ConfirmForm(FlaskForm):
    """Only the CSRF token, for buttons that change something."""


class ClientFilterForm(Form):
    """The search and filter bar of the clients page, read from the query string.

    A value outside the choices falls back to the default instead of failing,
    since a stale bookmark is not an error worth a message.
    """

    q = StringField(_l("Search"), filters=[_strip], render_kw={"type": "search"})
    status = SelectField(
        _l("Status"),
        choices=[("", _l("Any status"))] + _choices(CLIENT_STATUS_LABELS),
        default="",
        validate_choice=False,
    )
    view = SelectField(
        _l("Show"),
        choices=_choices(VIEW_LABELS),
        default="current",
        validate_choice=False,
    )
    sort = SelectField(
        _l("Sort by"),
        choices=_choices(SORT_LABELS),
        default="name",
        validate_choice=False,
    )

    def normalise(self) -> dict[str, str]:
        """The filters as ``client_cards`` takes them, defaults for bad values."""
        search = (self.q.data or "")[:200]
        status = self.status.data if self.status.data in CLIENT_STATUS_LABELS else ""
        view = self.view.data if self.view.data in VIEW_LABELS else "current"
        sort = self.sort.data if self.sort.data in SORT_LABELS else "name"
        self.q.data, self.status.data, self.view.data, self.sort.data = (
            search,
            status,
            view,
            sort,
        )
        return {"search": search, "status": status, "view": view, "sort": sort}


def apply_domain_errors(
    form: FlaskForm, error: DomainValidationError, aliases: dict[str, str] | None = None
) -> None:
    """Show the domain's messages beside the matching fields of ``form``.

    ``aliases`` maps a domain field to the form field that stands for it;
    messages for no field of the form go to the top of the form.
    """
    for name, messages in error.errors.items():
        field = form._fields.get((aliases or {}).get(name, name))
        if field is None:
            form.form_errors = [*form.form_errors, *messages]
        else:
            field.errors = [*field.errors, *messages]
