"""Labels for dues pages (every one through Babel)."""

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
