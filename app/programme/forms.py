"""The programme's forms: the overview's filter, a new compound, a new staff account, a
report token. Choices come from what the person oversees."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    Form,
    FormField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.accounts.forms import mobile_number
from app.accounts.models import MIN_PASSWORD, Role
from app.community.forms import STAGE_LABELS
from app.community.models import Party, Stage, WorkStatus
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


PARTY_LABELS = {
    Party.LEAD_DEPARTMENT: _l("District lead department"),
    Party.HOUSING: _l("Housing and construction"),
    Party.NATURAL_RESOURCES: _l("Natural resources"),
    Party.TELECOM: _l("Telecom administration"),
    Party.STREET_OFFICE: _l("Street office"),
    Party.COMMUNITY: _l("Community (residents' committee)"),
    Party.OWNERS: _l("Owners' committee or owner representatives"),
    Party.PROPERTY_COMPANY: _l("Property company"),
    Party.DESIGNER: _l("Designer"),
    Party.BUILDER: _l("Builder"),
    Party.SUPERVISOR: _l("Supervisor"),
    Party.UTILITIES: _l("Utility units (water, power, gas, heating)"),
}


class PartyForm(Form):
    involved = BooleanField(_l("Takes part"), default=True)
    organisation = StringField(
        _l("Organisation and person"),
        validators=[Optional(), Length(max=100)],
        render_kw={"maxlength": 100},
    )
    signed = BooleanField(_l("Signed"))


class AcceptanceForm(FlaskForm):
    held_on = DateField(_l("Day of the joint acceptance"), validators=[Optional()])
    document = FileField(
        _l("The signed acceptance document (PDF or photo)"),
        description=_l("Up to 10 MB. A photo is made smaller; a PDF is kept as it is."),
    )
    save = SubmitField(_l("Save"))


def acceptance_form(parties, **kwargs) -> AcceptanceForm:
    """The form with one sub-form per participant (field names party-<value>-…)."""

    class Bound(AcceptanceForm):
        pass

    for party in parties:
        setattr(Bound, f"party-{party.value}", FormField(PartyForm, label=PARTY_LABELS[party]))
    return Bound(**kwargs)


class CompleteForm(FlaskForm):
    sure = BooleanField(
        _l("Every participant has signed the document, and the works are handed over."),
        validators=[DataRequired(_l("Tick this to confirm."))],
    )
    submit = SubmitField(_l("Mark the compound accepted"))


WORK_STATUS_LABELS = {
    WorkStatus.PLANNED: _l("Planned"),
    WorkStatus.IN_PROGRESS: _l("Under way"),
    WorkStatus.DONE: _l("Finished"),
    WorkStatus.NOT_NEEDED: _l("Not needed here"),
}


def work_labels() -> dict[str, object]:
    """The works' names: the renovation items as the ballots name them, and public services."""
    from app.decisions.forms import ITEM_LABELS

    return {
        **ITEM_LABELS,
        "public_services": _l("Public-service facilities (canteen, classroom, elderly care)"),
    }


class WorkForm(FlaskForm):
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(s.value, label) for s, label in WORK_STATUS_LABELS.items()],
    )
    contractor = StringField(
        _l("Contractor"), validators=[Optional(), Length(max=100)], render_kw={"maxlength": 100}
    )
    planned_start = DateField(_l("Planned start"), validators=[Optional()])
    planned_end = DateField(_l("Planned end"), validators=[Optional()])
    actual_start = DateField(_l("Started on"), validators=[Optional()])
    actual_end = DateField(_l("Finished on"), validators=[Optional()])
    cost_item = SelectField(
        _l("Cost item (dues) that carries its cost"), coerce=str, validate_choice=False
    )
    submit = SubmitField(_l("Save"))
