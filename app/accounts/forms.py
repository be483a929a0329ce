"""Account forms; labels are lazy so they follow the reader's language."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from app.accounts.models import MIN_PASSWORD
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
    phone = StringField(_l("Mobile number"), validators=[DataRequired(_l("Enter your mobile number."))],
                        render_kw={"type": "tel", "inputmode": "numeric", "autocomplete": "tel",
                                   "maxlength": 20})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()
    submit = SubmitField(_l("Sign in"))


class ActivateForm(FlaskForm):
    """Every problem is shown at once, next to its field (the page answers 422)."""

    phone = StringField(
        _l("Your mobile number"),
        description=_l("The number the community committee has for you on the roster."),
        validators=[DataRequired(_l("Enter your mobile number.")), mobile_number],
        render_kw={"type": "tel", "inputmode": "numeric", "autocomplete": "tel", "maxlength": 20},
    )
    password = PasswordField(
        _l("Choose a password"),
        description=_l("At least 8 characters. You will sign in with your phone and this password."),
        validators=[DataRequired(_l("Choose a password.")),
                    Length(min=MIN_PASSWORD, message=_l(
                        "Choose a password of at least %(n)s characters.", n=MIN_PASSWORD)),
                    Length(max=128, message=_l("That password is too long."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[DataRequired(_l("Type the password again.")),
                    EqualTo("password", _l("The two passwords are not the same."))],
        render_kw={"autocomplete": "new-password"},
    )
    consent = BooleanField(_l("I have read the privacy notice and agree."), validators=[
        DataRequired(_l("Please agree to the privacy notice to continue."))])
    submit = SubmitField(_l("Activate my account"))


class ConfirmForm(FlaskForm):
    """An empty form: a button that posts with a CSRF token."""

    submit = SubmitField(_l("Confirm"))


class PhoneForm(FlaskForm):
    phone = StringField(_l("Mobile number checked in person"),
                        validators=[DataRequired(_l("Enter the mobile number."))],
                        render_kw={"type": "tel", "inputmode": "numeric", "maxlength": 20})
    submit = SubmitField(_l("Save number"))


class LettersForm(FlaskForm):
    building = StringField(_l("Building"), description=_l("Leave empty for every building."),
                           render_kw={"maxlength": 20})
    only_missing = BooleanField(_l("Only homes with no account yet"), default=True)
    submit = SubmitField(_l("Issue and print letters"))
