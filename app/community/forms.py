"""Community forms."""

from datetime import date

from flask_babel import gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from app.accounts.forms import mobile_number  # noqa: F401  (the shared validator)
from app.accounts.models import MIN_PASSWORD
from app.community.models import ManagementMode, NoticeKind, Relation, Stage
from app.community.services import compound_date_problems
from app.core.forms import BoundedIntegerField
from app.core.i18n import fmt_full_date
from app.core.i18n import lazy as _l
from app.core.timeutil import local_today

NOTICE_KIND_LABELS = {
    NoticeKind.STAFF: _l("Notice"),
    NoticeKind.BALLOT: _l("Vote"),
    NoticeKind.RESULT: _l("Vote result"),
    NoticeKind.ACCEPTANCE: _l("Works accepted"),
}
# What a notice that posted itself says before its own text (%(name)s: the compound).
NOTICE_LEADS = {
    NoticeKind.BALLOT: _l("The owners will vote on this. Read the full notice and vote in Linli."),
    NoticeKind.RESULT: _l("The result of this vote is published. Read it in Linli."),
    NoticeKind.ACCEPTANCE: _l(
        "The renovation works of %(name)s passed the joint completion acceptance and were "
        "handed over."
    ),
}
STAGE_LABELS = {
    Stage.SURVEYING: _l("Surveying residents' wishes"),
    Stage.PLANNED: _l("Planned"),
    Stage.IN_CONSTRUCTION: _l("In construction"),
    Stage.ACCEPTED: _l("Accepted and handed over"),
    Stage.MANAGED: _l("Managed after handover"),
}
# A stage as the step a resident reads on the compound's timeline ("on 3 Nov: …").
STAGE_STEPS = {
    Stage.SURVEYING: _l("We began asking residents whether they want the renovation"),
    Stage.PLANNED: _l("The renovation plan was agreed"),
    Stage.IN_CONSTRUCTION: _l("Construction began"),
    Stage.ACCEPTED: _l("The works passed joint completion acceptance and were handed over"),
    Stage.MANAGED: _l("Day-to-day management after handover began"),
}
RELATION_LABELS = {Relation.OWNER: _l("Owner"), Relation.TENANT: _l("Tenant")}
MODE_LABELS = {
    ManagementMode.UNDECIDED: _l("Not decided yet"),
    ManagementMode.PROPERTY_COMPANY: _l("Property company"),
    ManagementMode.SELF_GOVERNANCE: _l("Self-governance"),
    ManagementMode.STATE_FALLBACK: _l("State-owned property company (transitional)"),
}


class RosterUploadForm(FlaskForm):
    file = FileField(
        _l("Roster file (CSV or XLSX)"),
        description=_l(
            "Columns: 楼栋, 单元, 房号, 楼层, 专有面积, 业主姓名, 业主手机 … "
            "Chinese or English headers. Excel CSV in GBK is fine."
        ),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(["csv", "xlsx", "txt"], _l("Use a .csv or .xlsx file.")),
        ],
    )
    dry_run = BooleanField(_l("Check only, do not import"))
    submit = SubmitField(_l("Upload roster"))


class CompoundForm(FlaskForm):
    """The compound's stage and dates; every date in a sensible range (see
    services.compound_date_problems), all problems shown at once."""

    year_built = BoundedIntegerField(
        _l("Year built"), validators=[Optional()], render_kw={"inputmode": "numeric"}
    )
    stage = SelectField(
        _l("Renovation stage"),
        choices=[SelectChoice(s.value, label) for s, label in STAGE_LABELS.items()],
    )
    survey_started_on = DateField(_l("Survey started"), validators=[Optional()])
    construction_started_on = DateField(_l("Construction started"), validators=[Optional()])
    accepted_on = DateField(_l("Completion acceptance (handover) date"), validators=[Optional()])
    management_mode = SelectField(
        _l("Management mode"),
        choices=[SelectChoice(m.value, label) for m, label in MODE_LABELS.items()],
    )
    management_start_on = DateField(_l("Management starts"), validators=[Optional()])
    submit = SubmitField(_l("Save"))

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        parsed = {name: self[name].data for name in DATE_FIELDS if not self[name].errors}
        for name, (message, params) in compound_date_problems(parsed, local_today()).items():
            self[name].errors.append(date_problem_text(message, params))
        return not self.errors


DATE_FIELDS = (
    "year_built",
    "survey_started_on",
    "construction_started_on",
    "accepted_on",
    "management_start_on",
)


def date_problem_text(message: str, params: dict) -> str:
    """A date problem in the reader's language, its dates with the year."""
    shown = {k: fmt_full_date(v) if isinstance(v, date) else v for k, v in params.items()}
    return gettext(message, **shown)


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
        description=_l(
            "At least 8 characters. You will sign in with your phone and this password."
        ),
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(
                min=MIN_PASSWORD,
                message=_l("Choose a password of at least %(n)s characters.", n=MIN_PASSWORD),
            ),
            Length(max=128, message=_l("That password is too long.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[
            DataRequired(_l("Type the password again.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    consent = BooleanField(
        _l("I have read the privacy notice and agree."),
        validators=[DataRequired(_l("Please agree to the privacy notice to continue."))],
    )
    submit = SubmitField(_l("Activate my account"))


class PhoneForm(FlaskForm):
    phone = StringField(
        _l("Mobile number checked in person"),
        validators=[DataRequired(_l("Enter the mobile number."))],
        render_kw={"type": "tel", "inputmode": "numeric", "maxlength": 20},
    )
    submit = SubmitField(_l("Save number"))


class LettersForm(FlaskForm):
    building = StringField(
        _l("Building"),
        description=_l("Leave empty for every building."),
        render_kw={"maxlength": 20},
    )
    only_missing = BooleanField(_l("Only homes with no account yet"), default=True)
    submit = SubmitField(_l("Issue and print letters"))


class NoticeForm(FlaskForm):
    """A notice for the board; the audience choices are the compound's buildings and
    stairwells (set by the view)."""

    title = StringField(_l("Title"), render_kw={"maxlength": 120})
    body = TextAreaField(_l("Text"), validators=[Optional(), Length(max=5000)])
    audience = SelectField(_l("For"), choices=[], validate_choice=False)
    days = StringField(
        _l("Show for how many days"),
        default="14",
        description=_l("From 1 to 366 days; it leaves the board by itself after that."),
        render_kw={"inputmode": "numeric"},
    )
    pinned = BooleanField(_l("Pin it to the top of the board"))
    attachment = FileField(
        _l("Photo or PDF (optional)"),
        validators=[FileAllowed(["jpg", "jpeg", "png", "pdf"], _l("Choose a photo or a PDF."))],
        render_kw={"accept": "image/*,application/pdf"},
    )
    submit = SubmitField(_l("Post the notice"))


def audience_choices(compound) -> list[tuple[str, str]]:
    """Whole compound, each building, each stairwell of buildings that have several."""
    choices = [("", gettext("The whole compound"))]
    for building in compound.buildings:
        choices.append((f"b:{building.id}", gettext("Building %(name)s", name=building.name)))
        if len(building.units) > 1:
            for unit in building.units:
                choices.append(
                    (
                        f"u:{unit.id}",
                        gettext(
                            "Building %(building)s, stairwell %(unit)s",
                            building=building.name,
                            unit=unit.name,
                        ),
                    )
                )
    return choices
