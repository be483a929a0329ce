"""The dues pages' forms and labels (every one through Babel).

A dues form declares its fields (label, hint, input attributes, how much of the input is
kept) and the page renders them with the shared field macro. What the person typed is
checked by the dues rules and services, which raise FieldError naming the field: the view
collects every refusal in FormErrors and `show` puts each next to its field. The CSRF check
is the view's (`_posted`), so an expired form is a message, not a silent refusal.
"""

from flask_wtf import FlaskForm
from wtforms import BooleanField, FileField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import DateInput

from app.core.i18n import lazy as _l
from app.dues.models import AllocationRule, Bearer, Channel, IncomeKind, PaymentStatus
from app.dues.rules import Reason

CHANNEL_LABELS = {
    Channel.DIRECT: _l("Direct payment"),
    Channel.PROVIDENT_FUND: _l("Housing provident fund"),
    Channel.MAINTENANCE_FUND: _l("Maintenance fund"),
    Channel.PUBLIC_INCOME: _l("Community public income"),
    Channel.HARDSHIP: _l("Hardship subsidy"),
}
# Why a channel can or cannot pay, as the resident reads it (codes from ledger/rules).
CHANNEL_REASONS = {
    Reason.OK: _l("You can use this for up to the amount shown."),
    Reason.NOTHING_TO_PAY: _l("Nothing is left to pay this way."),
    Reason.NOT_OWN_HOME: _l(
        "Only for your own home's works (such as the elevator share or windows)."
    ),
    Reason.BEFORE_ACCEPTANCE: _l("Available after the works pass completion acceptance."),
    Reason.ALREADY_USED: _l("Already used once for this home (allowed once per home)."),
    Reason.NO_DECISION: _l(
        "Needs an approved owners' decision to use the fund, or a committee-approved emergency."
    ),
    Reason.NO_ACCOUNT: _l("No maintenance fund balance is on record for this home."),
    Reason.NO_BALANCE: _l("The home's maintenance fund balance is used up."),
    Reason.BY_DECISION: _l(
        "When the owners decide, the compound's public income can offset "
        "shares by area; it then shows here as paid."
    ),
    Reason.COMMITTEE: _l(
        "Households in hardship can ask the community committee; a subsidy it "
        "grants shows here as paid."
    ),
}
STATUS_LABELS = {
    PaymentStatus.PENDING: _l("Awaiting confirmation"),
    PaymentStatus.CONFIRMED: _l("Confirmed"),
    PaymentStatus.REJECTED: _l("Rejected"),
    PaymentStatus.WITHDRAWN: _l("Withdrawn"),
}
BEARER_LABELS = {
    Bearer.RESIDENTS: _l("Residents"),
    Bearer.GOVERNMENT: _l("Government"),
    Bearer.UTILITY: _l("Utility companies"),
    Bearer.CITY_INVESTMENT: _l("City investment group"),
}
RULE_LABELS = {
    AllocationRule.AREA: _l("By exclusive area"),
    AllocationRule.PER_DWELLING: _l("Equal per home"),
    AllocationRule.OPT_IN: _l("Only homes that ordered it"),
    AllocationRule.ELEVATOR: _l("Elevator: floor coefficient × area"),
}
INCOME_LABELS = {
    IncomeKind.ADS: _l("Advertising"),
    IncomeKind.PARKING: _l("Parking"),
    IncomeKind.CHARGING: _l("EV charging"),
    IncomeKind.KIOSK: _l("Kiosks"),
    IncomeKind.LOCKER: _l("Parcel lockers"),
    IncomeKind.OTHER: _l("Other income"),
    IncomeKind.COST: _l("Cost"),
}
# What the housing provident fund centre asks for (DESIGN §5); the statement lists them.
PROVIDENT_DOCUMENTS = (
    _l("This cost-sharing statement, printed from Linli and signed by the owner"),
    _l("The owners' cost-sharing agreement for the works (from the community committee)"),
    _l("The completion acceptance record of the works"),
    _l("Invoices or receipts for what you have paid"),
    _l("The owner's property certificate (房产证 / 不动产权证)"),
    _l("The owner's ID card and provident fund account details, shown at the counter"),
)


def _clip(limit: int):
    """Keep at most `limit` characters of what was typed (as the input's maxlength does)."""
    return lambda value: (value or "")[:limit]  # an input left out of the post: empty


def _text(label, limit: int, hint=None, **attrs) -> StringField:
    return StringField(
        label,
        description=hint,
        filters=[_clip(limit)],
        render_kw={"autocomplete": "off", **attrs} if attrs else None,
    )


def _amount(label, hint=None, required: bool = True) -> StringField:
    attrs = {"inputmode": "decimal", "autocomplete": "off", "maxlength": "20"}
    if required:
        attrs["required"] = True
    return StringField(label, description=hint, filters=[_clip(40)], render_kw=attrs)


def _day(label, hint=None, **attrs) -> StringField:
    """A date typed or picked as year-month-day; the rules check it (2000-2100)."""
    return StringField(
        label, description=hint, filters=[_clip(20)], widget=DateInput(), render_kw=attrs or None
    )


class DuesForm(FlaskForm):
    class Meta:
        csrf = False  # the view checks the token once for the page (_posted)

    def values(self) -> dict:
        """What was typed, by field name (for the rules that read it)."""
        return {name: f.data for name, f in self._fields.items() if not isinstance(f, FileField)}

    def ids(self, pattern: str, *names: str) -> "DuesForm":
        """Give inputs (all, or those named) ids of their own ("hs-{name}-3") where one page
        shows the form several times (one per bill line) or beside another form with the
        same field names."""
        for name, f in self._fields.items():
            if names and name not in names:
                continue
            f.id = pattern.format(name=name)
            f.label.field_id = f.id
        return self

    def show(self, errors) -> "DuesForm":
        """Put each refusal next to its field; the rest stays for the summary above."""
        for name, messages in errors.items():
            if name and name in self._fields:
                self[name].errors = [*self[name].errors, *messages]
        return self


class PayForm(DuesForm):
    channel = RadioField(_l("How did you pay?"), choices=[], validate_choice=False)
    amount = _amount(_l("Amount (yuan)"), _l("e.g. 1280.50 or 1280.50元 — at most two decimals"))
    reference = StringField(
        _l("Transfer or receipt number"),
        filters=[_clip(200)],
        render_kw={"maxlength": "100"},
        description=_l(
            "So the manager can find your payment. Not needed if you attach a photo of the receipt."
        ),
    )
    photo = FileField(_l("Photo of the receipt (optional)"), render_kw={"accept": "image/*"})


class FeeForm(DuesForm):
    rate = StringField(
        _l("Rate (yuan per m² per month)"),
        description=_l("e.g. 0.30"),
        filters=[_clip(20)],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "maxlength": "12"},
    )
    starts_on = _day(
        _l("Billing starts on"),
        _l('Leave empty while the fee is not billed yet ("service first, pay later").'),
    )
    effective_from = _day(
        _l("A new rate applies from"),
        _l(
            "Months that began before this day keep the rate they were "
            "served at. Empty: from today."
        ),
    )


class RejectForm(DuesForm):
    reason = StringField(
        _l("Reason for rejecting"),
        filters=[_clip(400)],
        description=_l("The resident sees this, e.g. “No transfer with this number arrived”."),
        render_kw={"maxlength": "200", "required": True},
    )


class HardshipForm(DuesForm):
    amount = _amount(_l("Amount let off (yuan)"))  # the hint names the line's maximum
    note = StringField(
        _l("Committee decision"),
        filters=[_clip(200)],
        render_kw={"maxlength": "100", "required": True},
        description=_l(
            "e.g. “Committee meeting 26 Nov: low-income household”. The household sees this."
        ),
    )


PERCENT_FIELDS = (
    ("government", Bearer.GOVERNMENT),
    ("utility", Bearer.UTILITY),
    ("city_investment", Bearer.CITY_INVESTMENT),
)


class _Bearers:
    """Forms with a percent field per other bearer, labelled in the page's language."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, bearer in PERCENT_FIELDS:
            self[name].label.text = f"{BEARER_LABELS[bearer]} (%)"


def _percent_field(label) -> StringField:
    return StringField(
        label,
        filters=[_clip(30)],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "maxlength": "12"},
    )


class ItemForm(_Bearers, DuesForm):
    name = StringField(
        _l("Item name"),
        filters=[_clip(200)],
        description=_l("e.g. “Elevator, building 1 unit 1” or “New windows”"),
        render_kw={"maxlength": "100", "required": True},
    )
    total = _amount(_l("Total cost (yuan)"), _l("e.g. 600000 or 1280.50 — at most two decimals"))
    government = _percent_field("government")
    utility = _percent_field("utility")
    city_investment = _percent_field("city_investment")
    rule = RadioField(
        _l("How residents share their part"),
        validate_choice=False,
        default=AllocationRule.AREA.value,
        choices=[SelectChoice(rule.value, label) for rule, label in RULE_LABELS.items()],
    )
    building = _text(_l("Building (empty: the whole compound)"), 200, maxlength="20")
    unit = _text(
        _l("Unit (stairwell)"),
        200,
        _l("Needed for an elevator: it is shared within one stairwell."),
        maxlength="20",
    )
    opt_in = TextAreaField(
        _l("Homes that ordered it (only for “only homes that ordered it”)"),
        filters=[_clip(4000)],
        description=_l("building-unit-room, separated by commas, e.g. 1-1-601, 1-1-301"),
        render_kw={"rows": 3, "maxlength": "4000"},
    )
    coefficients = _text(
        _l("Floor coefficients (only for an elevator)"),
        400,
        _l("floor:coefficient for every floor, e.g. 1:0,2:0,3:0.7,4:0.8,5:0.9,6:1.0"),
        maxlength="400",
    )
    subsidy = _amount(
        _l("Subsidy to residents (yuan, optional)"),
        _l("e.g. the county’s per-elevator subsidy; taken off before sharing."),
        required=False,
    )
    own_home = BooleanField(
        _l("Own-home works"),
        description=_l(
            "Such as the elevator share or windows: owners may then pay from the "
            "housing provident fund after acceptance."
        ),
    )


class ItemChangeForm(_Bearers, DuesForm):
    total = _amount(_l("Total cost (yuan)"))
    subsidy = _amount(_l("Subsidy to residents (yuan)"), required=False)
    government = _percent_field("government")
    utility = _percent_field("utility")
    city_investment = _percent_field("city_investment")
    coefficients = _text(
        _l("Floor coefficients"),
        400,
        _l("Every floor as floor:coefficient, e.g. 1:0,2:0,3:0.7,4:0.8"),
        maxlength="400",
    )


class EmergencyForm(DuesForm):
    note = StringField(
        _l("Emergency: what is it?"),
        filters=[_clip(400)],
        description=_l(
            "Only for urgent repairs that cannot wait for a vote, e.g. a burst water pipe."
        ),
        render_kw={"maxlength": "200", "required": True},
    )


class IncomeEntryForm(DuesForm):
    kind = SelectField(
        _l("Kind"),
        validate_choice=False,
        choices=[SelectChoice("", _l("Choose…"))]
        + [SelectChoice(kind.value, label) for kind, label in INCOME_LABELS.items()],
    )
    amount = _amount(
        _l("Amount (yuan)"),
        _l("e.g. 1280.50 — a cost is entered as a positive amount and taken off"),
    )
    occurred_on = _day(_l("Date"), required=True)
    note = _text(_l("Note (residents see it)"), 400, maxlength="200")


class IncomeUseForm(DuesForm):
    amount = _amount(_l("Amount (yuan)"))  # the hint says how much is available
    target = SelectField(_l("For"), validate_choice=False, choices=[])
    ballot = SelectField(_l("The owners’ decision"), validate_choice=False, choices=[])
    note = _text(_l("Note (residents see it)"), 400, maxlength="200")


class FundImportForm(DuesForm):
    file = FileField(
        _l("Fund statement (CSV or XLSX)"),
        render_kw={"accept": ".csv,.xlsx,.txt", "required": True},
    )
