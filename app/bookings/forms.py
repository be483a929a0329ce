"""Canteen and classroom forms."""

from datetime import time

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.bookings.models import Meal, Service
from app.core.i18n import lazy as _l

MEAL_LABELS = {Meal.LUNCH: _l("Lunch"), Meal.DINNER: _l("Dinner")}
SERVICE_LABELS = {Service.DINE_IN: _l("Eat in the canteen"), Service.TAKE_AWAY: _l("Take away")}
WEEKDAY_LABELS = [_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday")]
TIER_LABELS = {"standard": _l("standard price"), "elder": _l("elder price (60+)"),
               "elder_70": _l("elder price (70+)"), "elder_80": _l("elder price (80+)"),
               "elder_90": _l("elder price (90+)")}


class MealSessionForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(_l("Choose a date."))])
    meal = SelectField(_l("Meal"), choices=[SelectChoice(m.value, v)
                                            for m, v in MEAL_LABELS.items()])
    serves = TimeField(_l("Served at"), default=time(11, 30),
                       validators=[InputRequired(_l("Enter a time."))])
    cutoff_hours = IntegerField(_l("Booking closes this many hours before"), default=3,
                                validators=[InputRequired(), NumberRange(0, 72)])
    capacity = IntegerField(_l("Meals available"), default=60,
                            validators=[InputRequired(), NumberRange(1, 1000)])
    submit = SubmitField(_l("Publish meal"))


class DishForm(FlaskForm):
    name = StringField(_l("Set menu"), validators=[DataRequired(_l("Enter the menu's name.")),
                                                   Length(max=60)])
    price = StringField(_l("Price (yuan)"), validators=[DataRequired(_l("Enter a price."))],
                        render_kw={"inputmode": "decimal"})
    elder_price = StringField(_l("Elder price, 60+ (yuan)"),
                              validators=[DataRequired(_l("Enter a price."))],
                              render_kw={"inputmode": "decimal"})
    capacity = IntegerField(_l("Portions"), default=30,
                            validators=[InputRequired(), NumberRange(1, 1000)])
    submit = SubmitField(_l("Add menu"))


class TierForm(FlaskForm):
    min_age = IntegerField(_l("Age from"), default=80,
                           validators=[InputRequired(), NumberRange(61, 120)])
    subsidy = StringField(_l("Further subsidy (yuan, 0 removes the tier)"),
                          validators=[DataRequired(_l("Enter an amount."))],
                          render_kw={"inputmode": "decimal"})
    submit = SubmitField(_l("Save age tier"))


class MemberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")),
                                               Length(max=60)])
    birth_year = IntegerField(_l("Year of birth"), validators=[Optional(),
                                                               NumberRange(1900, 2100)],
                              description=_l("For the elder price: 60 and older."),
                              render_kw={"inputmode": "numeric"})
    submit = SubmitField(_l("Add to my household"))


class ChildForm(FlaskForm):
    name = StringField(_l("Child's name"), validators=[DataRequired(_l("Enter a name.")),
                                                       Length(max=60)])
    grade = SelectField(_l("Grade"), coerce=int,
                        choices=[SelectChoice(str(n), str(n)) for n in range(1, 7)])
    school = StringField(_l("School"), validators=[Length(max=100)])
    pickup_adults = TextAreaField(
        _l("Adults who may collect the child"),
        description=_l("One name per line. You can always collect the child yourself."),
        validators=[Length(max=400)])
    consent = BooleanField(_l("As the guardian, I agree that the classroom keeps this child's "
                              "name, grade, school and the adults above, seen only by the "
                              "classroom staff and the street office, only to run the "
                              "classroom. I can withdraw this at any time."))
    submit = SubmitField(_l("Register child"))


class ClassSessionsForm(FlaskForm):
    start = DateField(_l("From"), validators=[InputRequired(_l("Choose a date."))])
    end = DateField(_l("To"), validators=[InputRequired(_l("Choose a date."))])
    starts = TimeField(_l("Starts"), default=time(16, 30), validators=[InputRequired()])
    ends = TimeField(_l("Ends"), default=time(18, 0), validators=[InputRequired()])
    capacity = IntegerField(_l("Places"), default=20,
                            validators=[InputRequired(), NumberRange(1, 200)])
    tutor = StringField(_l("Volunteer tutor"), validators=[Length(max=60)])
    submit = SubmitField(_l("Open sessions on school days"))


class RecurringForm(FlaskForm):
    child = SelectField(_l("Child"), coerce=int)
    weekday = SelectField(_l("Every"), coerce=int,
                          choices=[SelectChoice(str(n), v) for n, v in enumerate(WEEKDAY_LABELS)])
    start = DateField(_l("From"), validators=[InputRequired(_l("Choose a date."))])
    end = DateField(_l("To"), validators=[InputRequired(_l("Choose a date."))])
    submit = SubmitField(_l("Book every week"))


class PickupForm(FlaskForm):
    adult = StringField(_l("Collected by"), validators=[DataRequired(_l("Write who collected "
                                                                        "the child.")),
                                                        Length(max=60)])
    exception = StringField(_l("If not a named adult: why"), validators=[Length(max=200)])
    submit = SubmitField(_l("Picked up"))
