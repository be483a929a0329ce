"""Repair forms and labels."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FileField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from app.core.i18n import lazy as _l
from app.repairs.rules import Acceptance, Action, Category, Priority, Route, Status

CATEGORY_LABELS = {
    Category.DEMOLITION: _l("Illegal structures and rubbish"),
    Category.DRAINAGE: _l("Drains, sewers and manholes"),
    Category.UTILITIES: _l("Water, power or gas (leak, outage)"),
    Category.WASTE_ROOMS: _l("Waste sorting room"),
    Category.CABLES: _l("Overhead cables"),
    Category.FIRE_SAFETY: _l("Fire safety (hydrant, extinguisher)"),
    Category.SECURITY: _l("Security: cameras and gates"),
    Category.ROADS: _l("Roads and parking"),
    Category.WALLS: _l("Walls and roofs (leaks)"),
    Category.LIGHTS_CHARGERS: _l("Street lights and EV chargers"),
    Category.GREEN: _l("Green space"),
    Category.OTHER: _l("Something else"),
}
STATUS_LABELS = {
    Status.SUBMITTED: _l("Reported"),
    Status.ACCEPTED: _l("Accepted"),
    Status.IN_PROGRESS: _l("Being repaired"),
    Status.RESOLVED: _l("Repaired: please confirm"),
    Status.CONFIRMED: _l("Confirmed"),
    Status.CLOSED: _l("Closed"),
    Status.REJECTED: _l("Rejected"),
}
PRIORITY_LABELS = {Priority.URGENT: _l("Urgent"), Priority.NORMAL: _l("Normal")}
ROUTE_LABELS = {
    Route.CONTRACTOR: _l("Contractor (under warranty)"),
    Route.PROPERTY: _l("Property manager"),
}


ACCEPTANCE_LABELS = {
    Acceptance.NOT_SET: _l(
        "Warranties start on the completion acceptance date, which is not set yet."
    ),
    Acceptance.WRONG: _l(
        "The completion acceptance date on record (%(date)s) looks wrong, so "
        "no warranty can be worked out and reports go to the property "
        "manager. Please ask the committee to correct it."
    ),
    Acceptance.FUTURE: _l(
        "Completion acceptance is recorded for %(date)s: warranties run from that day."
    ),
}
# The label of each step's button; the primary one is the next step.
STEP_LABELS = {
    Action.ACCEPT: _l("Accept and assign"),
    Action.START: _l("Start the repair"),
    Action.RESOLVE: _l("Repaired"),
    Action.REJECT: _l("Reject"),
    Action.CONFIRM: _l("Yes, it is fixed"),
    Action.REOPEN: _l("Reopen"),
}
REASSIGN_LABEL = _l("Change the worker")
HAND_BACK_LABEL = _l("Hand back to the property manager")
# Forms carry and show what was typed; services check it and name every problem.
PHOTO_AGAIN = _l(
    "Please choose the photo again: a photo cannot be kept when the form is sent back."
)


class FacilityForm(FlaskForm):
    category = SelectField(
        _l("Kind"), choices=[SelectChoice(c.value, v) for c, v in CATEGORY_LABELS.items()]
    )
    name = StringField(_l("Facility name"), render_kw={"maxlength": 80})
    building = StringField(
        _l("Building"), description=_l("Empty for a common area."), render_kw={"maxlength": 20}
    )
    area = StringField(_l("Where"), render_kw={"maxlength": 80})
    renovated = BooleanField(_l("Built or renewed in the renovation"), default=True)
    contractor_name = StringField(_l("Contractor"), render_kw={"maxlength": 80})
    contractor_phone = StringField(
        _l("Contractor's account (mobile number)"),
        description=_l("Reports under warranty go to this account."),
        render_kw={"type": "tel", "inputmode": "numeric", "maxlength": 20},
    )
    submit = SubmitField(_l("Add facility"))


class ReportForm(FlaskForm):
    """A resident's report; where and which compound are drawn by the page from the homes."""

    request_key = HiddenField()
    facility = HiddenField()
    category = SelectField(
        _l("What is the problem about?"),
        validate_choice=False,
        choices=[SelectChoice("", _l("Choose one"))]
        + [SelectChoice(c.value, v) for c, v in CATEGORY_LABELS.items()],
    )
    where = StringField(_l("Where?"))
    compound = StringField(_l("Compound (for a common area)"))
    location = StringField(
        _l("Exact place"),
        description=_l("e.g. in front of building 3, the north gate"),
        render_kw={"maxlength": 120},
    )
    description = TextAreaField(_l("What is wrong?"), render_kw={"maxlength": 2000, "rows": 4})
    photos = MultipleFileField(
        _l("Photos (up to 3)"),
        description=_l(
            "Take a photo with your phone. Each at most 10 MB; the location saved in photos is "
            "removed."
        ),
        render_kw={"accept": "image/*", "capture": "environment"},
    )


class StickerReportForm(FlaskForm):
    """A report from a facility's sticker, without an account."""

    request_key = HiddenField()
    description = TextAreaField(_l("What is wrong?"), render_kw={"maxlength": 2000, "rows": 4})
    photos = FileField(
        _l("Photo (optional)"),
        description=_l("At most 10 MB; the location saved in photos is removed."),
        render_kw={"accept": "image/*", "capture": "environment"},
    )
    phone = StringField(
        _l("Your mobile number (optional)"),
        description=_l(
            "Only if you want the property manager to be able to call you about this repair. "
            "Staff see it masked; it is deleted when the repair is closed."
        ),
        render_kw={"type": "tel", "inputmode": "numeric", "autocomplete": "tel", "maxlength": 20},
    )
    consent = BooleanField(_l("I agree that my number is kept for this repair until it is closed."))


class ConfirmRepairForm(FlaskForm):
    rating = RadioField(
        _l("How many stars?"),
        validate_choice=False,
        choices=[SelectChoice(str(n), "★" * n) for n in range(5, 0, -1)],
    )
    comment = StringField(
        _l("Comment (optional)"), id="confirm-comment", render_kw={"maxlength": 500}
    )


class ReopenForm(FlaskForm):
    comment = StringField(
        _l("Not fixed? Say what is still wrong"), id="reopen-comment", render_kw={"maxlength": 500}
    )


class AcceptForm(FlaskForm):
    assignee = StringField(_l("Assign to worker"), render_kw={"maxlength": 60})


class ResolveForm(FlaskForm):
    after_photo = FileField(
        _l("Photo after the repair"), render_kw={"accept": "image/*", "capture": "environment"}
    )
    note = StringField(_l("What was done"), render_kw={"maxlength": 500})


class RejectForm(FlaskForm):
    note = StringField(_l("Reason for rejecting"), id="reject-note", render_kw={"maxlength": 300})


class HandBackForm(RejectForm):
    note = StringField(
        _l("Why it is not for the contractor (e.g. not a warranty defect)"),
        id="reject-note",
        render_kw={"maxlength": 300},
    )
