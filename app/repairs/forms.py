"""Repair forms and labels."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.core.i18n import lazy as _l
from app.repairs.rules import Category, Priority, Route, Status

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
    Status.SUBMITTED: _l("Reported"), Status.ACCEPTED: _l("Accepted"),
    Status.IN_PROGRESS: _l("Being repaired"), Status.RESOLVED: _l("Repaired: please confirm"),
    Status.CONFIRMED: _l("Confirmed"), Status.CLOSED: _l("Closed"),
    Status.REJECTED: _l("Rejected"),
}
PRIORITY_LABELS = {Priority.URGENT: _l("Urgent"), Priority.NORMAL: _l("Normal")}
ROUTE_LABELS = {Route.CONTRACTOR: _l("Contractor (under warranty)"),
                Route.PROPERTY: _l("Property manager")}


class FacilityForm(FlaskForm):
    category = SelectField(_l("Kind"), choices=[SelectChoice(c.value, v)
                                                for c, v in CATEGORY_LABELS.items()])
    name = StringField(_l("Facility name"),
                       validators=[DataRequired(_l("Enter the facility's name.")),
                                   Length(max=80)])
    building = StringField(_l("Building"), description=_l("Empty for a common area."),
                           validators=[Length(max=20)])
    area = StringField(_l("Where"), validators=[Length(max=80)])
    renovated = BooleanField(_l("Built or renewed in the renovation"), default=True)
    contractor_name = StringField(_l("Contractor"), validators=[Length(max=80)])
    contractor_phone = StringField(_l("Contractor's account (mobile number)"),
                                   description=_l("Reports under warranty go to this account."),
                                   validators=[Length(max=20)],
                                   render_kw={"type": "tel", "inputmode": "numeric"})
    submit = SubmitField(_l("Add facility"))
