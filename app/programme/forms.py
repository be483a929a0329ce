"""The programme's forms: the overview's filter, a new compound, a new staff account, a
report token. Choices come from what the person oversees."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.accounts.forms import mobile_number
from app.accounts.models import MIN_PASSWORD, Role
from app.community.forms import STAGE_LABELS
from app.community.models import Stage
from app.core.forms import BoundedIntegerField
from app.core.i18n import lazy as _l

ROLE_LABELS = {
    Role.COMMITTEE: _l("Community committee"),
    Role.PROPERTY_MANAGER: _l("Property manager"),
    Role.CANTEEN_OPERATOR: _l("Canteen operator"),
    Role.CLASSROOM_OPERATOR: _l("4:30 classroom operator"),
    Role.CONTRACTOR: _l("Contractor (warranty repairs)"),
    Role.STREET_ADMIN: _l("Street office admin"),
    Role.CITY_ADMIN: _l("City admin"),
}
# The roles a street office or the city gives a compound's own staff from the web.
COMPOUND_ROLES = (
    Role.COMMITTEE,
    Role.PROPERTY_MANAGER,
    Role.CANTEEN_OPERATOR,
    Role.CLASSROOM_OPERATOR,
    Role.CONTRACTOR,
)


def _year(label):
    return BoundedIntegerField(
        label,
        validators=[Optional()],
        minimum=1900,
        maximum=2100,
        render_kw={"inputmode": "numeric"},
    )


class FilterForm(FlaskForm):
    """Read from the address (GET): no CSRF, every field optional."""

    class Meta:
        csrf = False

    district = SelectField(_l("District"), coerce=str, validate_choice=False)
    office = SelectField(_l("Street office"), coerce=str, validate_choice=False)
    stage = SelectField(_l("Stage"), coerce=str, validate_choice=False)
    built_from = _year(_l("Built from (year)"))
    built_to = _year(_l("Built up to (year)"))
    submit = SubmitField(_l("Show"))

    def fill(self, districts, offices) -> None:
        everything = [SelectChoice("", _l("All"))]
        self.district.choices = everything + [SelectChoice(str(d.id), d.name) for d in districts]
        self.office.choices = everything + [SelectChoice(str(o.id), o.label) for o in offices]
        self.stage.choices = everything + [SelectChoice(s.value, STAGE_LABELS[s]) for s in Stage]

    def chosen(self, name: str, allowed: set[str]) -> str:
        value = self[name].data or ""
        return value if value in allowed else ""


class NewCompoundForm(FlaskForm):
    name = StringField(
        _l("Compound name"),
        validators=[DataRequired(_l("Give the compound's name.")), Length(max=100)],
        render_kw={"maxlength": 100, "autocomplete": "off"},
    )
    office = SelectField(_l("Street office"), coerce=str, validate_choice=False)
    new_district = StringField(
        _l("Or a new street office: its district"),
        validators=[Optional(), Length(max=60)],
        description=_l("City admins only; leave empty to choose a street office above."),
        render_kw={"maxlength": 60},
    )
    new_office = StringField(
        _l("The new street office's name"),
        validators=[Optional(), Length(max=100)],
        render_kw={"maxlength": 100},
    )
    year_built = _year(_l("Year built"))
    submit = SubmitField(_l("Create the compound"))


class NewStaffForm(FlaskForm):
    phone = StringField(
        _l("Mobile number"),
        validators=[DataRequired(_l("Enter an 11-digit mobile number.")), mobile_number],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Give the person's name.")), Length(max=100)],
        render_kw={"maxlength": 100},
    )
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in COMPOUND_ROLES],
        coerce=str,
    )
    compound = SelectField(_l("Compound"), coerce=str, validate_choice=False)
    password = PasswordField(
        _l("First password"),
        validators=[Optional(), Length(min=MIN_PASSWORD)],
        description=_l(
            "At least %(n)s characters; give it to the person in person. Leave it empty "
            "to add the role to an existing staff account.",
            n=MIN_PASSWORD,
        ),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Create the account"))


class TokenForm(FlaskForm):
    label = StringField(
        _l("What the token is for"),
        validators=[DataRequired(_l("Say what the token is for.")), Length(max=100)],
        render_kw={"maxlength": 100},
    )
    office = SelectField(_l("Figures of"), coerce=str, validate_choice=False)
    submit = SubmitField(_l("Create a token"))
