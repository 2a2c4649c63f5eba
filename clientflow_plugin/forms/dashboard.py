"""The dashboard's period selector, read from the query string."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from ..metrics import PeriodKey

PERIOD_CHOICES = (
    (PeriodKey.ALL.value, _l("All time")),
    (PeriodKey.THIS_YEAR.value, _l("This year")),
    (PeriodKey.LAST_12_MONTHS.value, _l("Last 12 months")),
    (PeriodKey.THIS_MONTH.value, _l("This month")),
    (PeriodKey.CUSTOM.value, _l("Custom dates")),
)


class PeriodForm(FlaskForm):
    """A GET form: it changes nothing, so it carries no CSRF token."""

    class Meta:
        csrf = False

    period = SelectField(
        _l("Period"), choices=PERIOD_CHOICES, default=PeriodKey.ALL.value
    )
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.period.data != PeriodKey.CUSTOM.value:
            return True
        if self.start.data is None:
            self.start.errors.append(_l("Choose the first day."))
        if self.end.data is None:
            self.end.errors.append(_l("Choose the last day."))
        if self.start.data and self.end.data and self.start.data > self.end.data:
            self.end.errors.append(_l("The last day comes before the first day."))
        return not (self.start.errors or self.end.errors)
