"""Account forms; labels are lazy so they follow the reader's language."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, ValidationError

from app.core.i18n import lazy as _l
from app.core.privacy import normalize_mobile


def mobile_number(form, field) -> None:
    """An 11-digit mainland mobile number, typed any usual way (spaces, +86, dashes)."""
    try:
        ok = normalize_mobile(field.data)
    except ValueError:
        ok = None
    if not ok:
        raise ValidationError(_l("Enter an 11-digit mobile number."))


class LoginForm(FlaskForm):
    phone = StringField(
        _l("Mobile number"),
        validators=[DataRequired(_l("Enter your mobile number."))],
        render_kw={"type": "tel", "inputmode": "numeric", "autocomplete": "tel", "maxlength": 20},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))
