"""Ballot forms and the labels of the decision vocabulary."""

from datetime import date

from flask_babel import gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    DateField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.forms import DateInRange
from app.core.i18n import lazy as _l
from app.decisions.models import BallotKind, BallotStatus, Category
from app.decisions.rules import RENOVATION_ITEMS, Outcome, Rule

KIND_LABELS = {
    BallotKind.WILLINGNESS: _l("Renovation willingness"),
    BallotKind.MANAGEMENT_MODE: _l("Management mode after renovation"),
    BallotKind.ELEVATOR: _l("Elevator retrofit (one stairwell)"),
    BallotKind.FUND_USE: _l("Use of the maintenance fund"),
    BallotKind.GENERAL: _l("Other decision (yes / no)"),
}
CATEGORY_LABELS = {
    Category.RULES_OF_PROCEDURE: _l("Rules of procedure of the owners' assembly"),
    Category.MANAGEMENT_STATUTE: _l("Management statute"),
    Category.ELECT_COMMITTEE: _l("Electing or replacing the owners' committee"),
    Category.HIRE_MANAGER: _l("Hiring or dismissing the property manager"),
    Category.USE_FUND: _l("Using the maintenance fund"),
    Category.RAISE_FUND: _l("Raising the maintenance fund"),
    Category.RENOVATE: _l("Rebuilding or renovating buildings and facilities"),
    Category.CHANGE_USE: _l("Changing the use of common parts or running a business on them"),
    Category.OTHER: _l("Other major matter"),
}
RULE_LABELS = {
    Rule.MAJOR: _l("Civil Code major: 3/4 of voted area and of voters"),
    Rule.ORDINARY: _l("Civil Code ordinary: more than 1/2 of voted area and of voters"),
    Rule.SHARE_OF_ALL: _l("Share of all voters in scope (local policy)"),
}
STATUS_LABELS = {
    BallotStatus.DRAFT: _l("Draft"),
    BallotStatus.NOTICE: _l("Notice published"),
    BallotStatus.OPEN: _l("Voting open"),
    BallotStatus.CLOSED: _l("Closed, counting"),
    BallotStatus.PUBLISHED: _l("Result published"),
    BallotStatus.WITHDRAWN: _l("Notice withdrawn"),
}
OUTCOME_LABELS = {
    Outcome.PASSED: _l("Passed"),
    Outcome.REJECTED: _l("Not passed"),
    Outcome.NO_QUORUM: _l("Not decided: too few owners took part"),
    Outcome.CHOSEN: _l("Decided"),
    Outcome.FALLBACK: _l(
        "No option won: the street office's state-owned property "
        "company manages the compound for a transition period"
    ),
}


def verdict(outcome: Outcome | str, winner: str | None) -> str:
    """A result in words: the option decided on, or what the outcome means."""
    if Outcome(outcome) is Outcome.CHOSEN:
        return gettext("Decided: %(option)s", option=gettext(winner))
    return str(OUTCOME_LABELS[Outcome(outcome)])


ITEM_LABELS = dict(
    zip(
        RENOVATION_ITEMS,
        [
            _l("Clearing illegal structures and leftovers"),
            _l("Rain and sewage separation, manholes"),
            _l("Water, power and gas pipes"),
            _l("Waste sorting rooms"),
            _l("Tidying overhead cables"),
            _l("Fire safety"),
            _l("Security: cameras and gates"),
            _l("Roads and parking"),
            _l("Exterior walls and roofs"),
            _l("Street lights and EV chargers"),
        ],
        strict=True,
    )
)


class BallotForm(FlaskForm):
    """A draft ballot. Limits that depend on the compound's policy (the least notice, the
    shortest window) are checked by the service, which names each field it refuses."""

    kind = SelectField(
        _l("Kind of decision"), choices=[SelectChoice(k.value, v) for k, v in KIND_LABELS.items()]
    )
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Give the ballot a title.")), Length(max=200)]
    )
    explanation = TextAreaField(
        _l("Notice text"),
        validators=[Length(max=5000)],
        description=_l("What is decided, the cost, who pays, why."),
    )
    category = SelectField(
        _l("Category (Civil Code art. 278)"),
        choices=[SelectChoice("", _l("As the kind implies"))]
        + [SelectChoice(c.value, v) for c, v in CATEGORY_LABELS.items()],
    )
    rule = SelectField(
        _l("Threshold"),
        description=_l("Only renovation-willingness ballots may choose; the law sets the rest."),
        choices=[SelectChoice("", _l("As the law sets for the category"))]
        + [SelectChoice(r.value, v) for r, v in RULE_LABELS.items()],
    )
    share = StringField(
        _l("Share of all voters"),
        default="2/3",
        description=_l("For the share preset, e.g. 2/3."),
        validators=[Length(max=10)],
    )
    building = StringField(
        _l("Building"), description=_l("Empty: the whole compound."), validators=[Length(max=20)]
    )
    unit = StringField(
        _l("Unit"),
        description=_l("For an elevator: the stairwell unit."),
        validators=[Length(max=20)],
    )
    notice_days = IntegerField(
        _l("Days of notice before voting"),
        validators=[InputRequired(_l("Enter a number of days."))],
    )
    opens_at = DateTimeLocalField(
        _l("Voting opens"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Enter a date and time."))],
    )
    closes_at = DateTimeLocalField(
        _l("Voting closes"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Enter a date and time."))],
    )
    mode_start_on = DateField(
        _l("Management mode starts on"),
        validators=[Optional(), DateInRange(date(2000, 1, 1), date(2100, 12, 31))],
        description=_l("Management-mode ballots only."),
    )
    submit = SubmitField(_l("Save the draft"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is the notice withdrawn?"),
        validators=[Length(max=500)],
        description=_l("Owners and tenants will read this on the ballot and on the notice."),
    )
    submit = SubmitField(_l("Withdraw the notice"))


class ExtendForm(FlaskForm):
    closes_at = DateTimeLocalField(
        _l("New closing time"),
        format="%Y-%m-%dT%H:%M",
        validators=[InputRequired(_l("Enter a date and time."))],
        description=_l("Beijing time; later than the current close."),
    )
    reason = TextAreaField(
        _l("Why is voting extended?"),
        validators=[Length(max=500)],
        description=_l("Owners will read this on the ballot and on the notice."),
    )
    submit = SubmitField(_l("Extend voting"))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VoteForm(FlaskForm):
    choice = RadioField(
        _l("Your choice"), coerce=int, validators=[InputRequired(_l("Choose one option."))]
    )
    items = MultiCheckboxField(
        _l("Which renovation items matter most to you?"),
        choices=[SelectChoice(k, v) for k, v in ITEM_LABELS.items()],
        validators=[Optional()],
    )
    submit = SubmitField(_l("Submit my vote"))


class PaperForm(FlaskForm):
    building = StringField(
        _l("Building"), validators=[DataRequired(_l("Enter the building.")), Length(max=20)]
    )
    unit = StringField(_l("Unit"), validators=[Length(max=20)])
    room = StringField(_l("Room"), validators=[DataRequired(_l("Enter the room.")), Length(max=20)])
    choice = SelectField(_l("Choice on the paper ballot"), coerce=int)
    proxy_name = StringField(
        _l("Name of the person voting for the owner, if any"), validators=[Length(max=100)]
    )
    submit = SubmitField(_l("Record paper ballot"))


class PaperImportForm(FlaskForm):
    file = FileField(
        _l("Paper ballots file (CSV or XLSX)"),
        description=_l("Columns: 楼栋, 单元, 房号, 选项 (number or label), 委托人."),
        validators=[
            FileRequired(_l("Choose a file.")),
            FileAllowed(["csv", "xlsx", "txt"], _l("Use a .csv or .xlsx file.")),
        ],
    )
    submit = SubmitField(_l("Import paper ballots"))
