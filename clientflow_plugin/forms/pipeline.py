"""Forms of the pipeline pages.

They check what a browser can get wrong (a missing field, a number out of
range, text too long); the rules of the pipeline itself are checked again by
:mod:`clientflow_plugin.pipeline`, whose messages the views put back on the
fields.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..models import OPEN_STAGES
from ..pipeline import STAGE_LABELS, STAGES

PROBABILITY_MESSAGE = _l("The probability must be between 0 and 100.")


def stage_choices(stages=STAGES) -> list[tuple[str, object]]:
    return [(stage.value, STAGE_LABELS[stage]) for stage in stages]


def _optional_int(value: object) -> int | None:
    if value in (None, ""):
        return None
    return int(value)  # type: ignore[arg-type]


class OpportunityForm(FlaskForm):
    """Create or edit an opportunity; the stage is only chosen at creation."""

    client_id = SelectField(
        _l("Client"), coerce=_optional_int, validate_choice=True, choices=[]
    )
    prospect_name = StringField(_l("Prospect name"), validators=[Length(max=200)])
    prospect_company = StringField(_l("Company"), validators=[Length(max=200)])
    title = StringField(_l("What it is about"), validators=[Length(max=200)])
    stage = SelectField(_l("Stage"), choices=stage_choices(OPEN_STAGES))
    value = StringField(_l("Estimated value"), validators=[Length(max=40)])
    probability = IntegerField(
        _l("Close probability (%)"),
        validators=[Optional(), NumberRange(0, 100, message=PROBABILITY_MESSAGE)],
    )
    proposal_url = StringField(
        _l("Proposal link"), validators=[Optional(), Length(max=1000)]
    )
    proposal_file = FileField(_l("Proposal PDF"))
    remove_proposal_file = BooleanField(_l("Remove the uploaded PDF"))
    proposal_sent_on = DateField(_l("Proposal sent on"), validators=[Optional()])
    next_follow_up = DateField(_l("Next follow-up"), validators=[Optional()])
    next_step = StringField(_l("Next step"), validators=[Length(max=500)])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=10_000)])


class MoveForm(FlaskForm):
    """Move a card to another stage; ``position`` is its place in the column."""

    stage = SelectField(_l("Move to"), choices=stage_choices())
    position = IntegerField(_l("Position"), validators=[Optional(), NumberRange(min=0)])


class LostForm(FlaskForm):
    lost_reason_id = RadioField(
        _l("Why was it lost?"),
        coerce=_optional_int,
        choices=[],
        validators=[InputRequired(_l("Choose why the opportunity was lost."))],
    )
    lost_note = TextAreaField(_l("Note"), validators=[Length(max=1000)])


class WonForm(FlaskForm):
    create_client = BooleanField(_l("Add the prospect as a client"), default=True)
    project_name = StringField(_l("First project"), validators=[Length(max=200)])


class FollowUpForm(FlaskForm):
    next_follow_up = DateField(_l("Next follow-up"), validators=[Optional()])
    next_step = StringField(_l("Next step"), validators=[Length(max=500)])


class LostReasonForm(FlaskForm):
    label = StringField(
        _l("Reason"),
        validators=[InputRequired(_l("Type the reason.")), Length(max=120)],
    )
    is_other = BooleanField(_l("Ask for a note when this reason is chosen"))


class PeriodForm(FlaskForm):
    """The lost report's period, first and last day included; read from GET."""

    class Meta:
        csrf = False

    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
