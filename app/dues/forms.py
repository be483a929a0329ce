"""The dues pages' forms and labels (every one through Babel).

A dues form declares its fields (label, hint, input attributes, how much of the input is
kept) and the page renders them with the shared field macro. What the person typed is
checked by the dues rules and services, which raise FieldError naming the field: the view
collects every refusal in FormErrors and `show` puts each next to its field. The CSRF check
is the view's (`_posted`), so an expired form is a message, not a silent refusal.
"""

from flask_wtf import FlaskForm
from wtforms import FileField, RadioField, StringField
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
