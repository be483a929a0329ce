"""Community forms."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import NumberRange, Optional

from app.community.models import ManagementMode, Stage
from app.core.i18n import lazy as _l

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
    year_built = IntegerField(_l("Year built"), validators=[Optional(), NumberRange(1900, 2100)],
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
