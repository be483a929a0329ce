"""Form parts every feature shares: bounded ids and numbers, dates in a sensible range,
and the status a refused form answers with."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField
from wtforms.validators import StopValidation, ValidationError

from app.core.i18n import lazy as _l

MAX_ID = 2**31 - 1
# Dates people type for this programme: compounds were built from the 1950s, plans run
# to the end of the century. Each field narrows this where it knows better.
EARLIEST = date(1950, 1, 1)
LATEST = date(2100, 12, 31)


def refused_status(*forms) -> int:
    """422 when any of the forms has errors (the page shows them, input kept), else 200."""
    return 422 if any(f.errors for f in forms if f is not None) else 200


class BoundedIntegerField(IntegerField):
    """A whole number that fits the database (20 digits is a typing error, not a 500)."""

    def __init__(
        self, label=None, validators=None, minimum: int = -MAX_ID, maximum: int = MAX_ID, **kwargs
    ):
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.minimum <= self.data <= self.maximum:
            self.data = None
            raise ValueError(_l("Enter a smaller number."))


class IdField(BoundedIntegerField):
    """An id posted in a form: a positive integer the database can hold."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, minimum=1, maximum=MAX_ID, **kwargs)


class DateInRange:
    """A date between two bounds (dates or callables returning one), with a message
    that says the range, e.g. for "accepted on" no later than today."""

    def __init__(
        self,
        earliest: date | Callable[[], date] = EARLIEST,
        latest: date | Callable[[], date] = LATEST,
        message=None,
    ):
        self.earliest, self.latest, self.message = earliest, latest, message

    def __call__(self, form, field):
        if field.data is None:
            return
        low = self.earliest() if callable(self.earliest) else self.earliest
        high = self.latest() if callable(self.latest) else self.latest
        if not low <= field.data <= high:
            from app.core.i18n import fmt_full_date

            message = self.message or _l("Choose a date from %(low)s to %(high)s.")
            raise StopValidation(
                str(message) % {"low": fmt_full_date(low), "high": fmt_full_date(high)}
            )


def check_date(value: date, earliest: date = EARLIEST, latest: date = LATEST) -> bool:
    """Whether a date parsed outside WTForms lies in the range."""
    return earliest <= value <= latest


class ConfirmForm(FlaskForm):
    """An empty form: a button that posts with a CSRF token."""

    submit = SubmitField(_l("Confirm"))


__all__ = [
    "ConfirmForm",
    "BoundedIntegerField",
    "DateInRange",
    "IdField",
    "ValidationError",
    "refused_status",
    "check_date",
]
