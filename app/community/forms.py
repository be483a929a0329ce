"""Community forms."""

from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from app.community.models import ManagementMode, Stage
from app.core.forms import BoundedIntegerField
from app.core.i18n import lazy as _l
from app.core.timeutil import local_today

STAGE_LABELS = {
    Stage.SURVEYING: _l("Surveying residents' wishes"),
    Stage.PLANNED: _l("Planned"),
    Stage.IN_CONSTRUCTION: _l("In construction"),
    Stage.ACCEPTED: _l("Accepted and handed over"),
    Stage.MANAGED: _l("Managed after handover"),
}
MODE_LABELS = {
    ManagementMode.UNDECIDED: _l("Not decided yet"),
    ManagementMode.PROPERTY_COMPANY: _l("Property company"),
    ManagementMode.SELF_GOVERNANCE: _l("Self-governance"),
    ManagementMode.STATE_FALLBACK: _l("State-owned property company (transitional)"),
}


class RosterUploadForm(FlaskForm):
    file = FileField(
        _l("Roster file (CSV or XLSX)"),
        description=_l("Columns: 楼栋, 单元, 房号, 楼层, 专有面积, 业主姓名, 业主手机 … "
                       "Chinese or English headers. Excel CSV in GBK is fine."),
        validators=[FileRequired(_l("Choose a file.")),
                    FileAllowed(["csv", "xlsx", "txt"], _l("Use a .csv or .xlsx file."))],
    )
    dry_run = BooleanField(_l("Check only, do not import"))
    submit = SubmitField(_l("Upload roster"))


class CompoundForm(FlaskForm):
    """The compound's stage and dates; every date in a sensible range (see
    services.compound_date_problems), all problems shown at once."""

    year_built = BoundedIntegerField(_l("Year built"), validators=[Optional()],
                                     render_kw={"inputmode": "numeric"})
    stage = SelectField(_l("Renovation stage"),
                        choices=[SelectChoice(s.value, label) for s, label in STAGE_LABELS.items()])
    survey_started_on = DateField(_l("Survey started"), validators=[Optional()])
    construction_started_on = DateField(_l("Construction started"), validators=[Optional()])
    accepted_on = DateField(_l("Completion acceptance (handover) date"), validators=[Optional()])
    management_mode = SelectField(_l("Management mode"),
                                  choices=[SelectChoice(m.value, label)
                                           for m, label in MODE_LABELS.items()])
    management_start_on = DateField(_l("Management starts"), validators=[Optional()])
    submit = SubmitField(_l("Save"))

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        from app.community.services import compound_date_problems

        parsed = {name: self[name].data for name in DATE_FIELDS if not self[name].errors}
        for name, (message, params) in compound_date_problems(parsed, local_today()).items():
            self[name].errors.append(date_problem_text(message, params))
        return not self.errors


DATE_FIELDS = ("year_built", "survey_started_on", "construction_started_on", "accepted_on",
               "management_start_on")


def date_problem_text(message: str, params: dict) -> str:
    """A date problem in the reader's language, its dates with the year."""
    from flask_babel import gettext

    from app.core.i18n import fmt_full_date

    shown = {k: fmt_full_date(v) if isinstance(v, date) else v for k, v in params.items()}
    return gettext(message, **shown)
