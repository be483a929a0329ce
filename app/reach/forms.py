"""Forms of the inbox, SMS choices and reminders."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField

from app.core.i18n import lazy as _l
from app.reach.texts import PURPOSE_LABELS, PURPOSES


class SmsChoicesForm(FlaskForm):
    """One box per purpose; unticked is withdrawn."""

    submit = SubmitField(_l("Save my choices"))

    @property
    def purposes(self):
        return [self[f"sms_{p}"] for p in PURPOSES]


for _purpose in PURPOSES:
    setattr(SmsChoicesForm, f"sms_{_purpose}", BooleanField(_l(PURPOSE_LABELS[_purpose])))


class ReadAllForm(FlaskForm):
    submit = SubmitField(_l("Mark all as read"))


class RemindForm(FlaskForm):
    submit = SubmitField(_l("Send the reminder now"))
