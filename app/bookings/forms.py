"""Canteen and classroom forms."""

from datetime import date, time, timedelta

from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    MonthField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from app.bookings.models import Meal, Service
from app.bookings.rules import MAX_PRICE_FEN, tier_age
from app.core.forms import BoundedIntegerField, DateInRange
from app.core.i18n import lazy as _l
from app.core.money import MoneyError, parse_yuan
from app.core.settings import policy_for
from app.core.timeutil import local_today

MEAL_LABELS = {Meal.LUNCH: _l("Lunch"), Meal.DINNER: _l("Dinner")}
SERVICE_LABELS = {Service.DINE_IN: _l("Eat in the canteen"), Service.TAKE_AWAY: _l("Take away")}
WEEKDAY_LABELS = [_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday")]
STANDARD_LABEL = _l("standard price")
AGE_TIER_LABEL = _l("elder price (%(age)s+)")
NUMBER_MESSAGE = _l("Enter a whole number from %(low)s to %(high)s.")
YEAR_MESSAGE = _l("Enter a year from 1900 to %(year)s, such as 1950.")


def tier_label(tier: str, elder_age: int) -> str:
    """The label of a price tier: "elder price (80+)" for "elder_80", "elder price (60+)"
    for "elder" where the elder price starts at 60."""
    if tier == "standard":
        return str(STANDARD_LABEL)
    return str(AGE_TIER_LABEL) % {"age": tier_age(tier, elder_age)}


class WholeNumber:
    """A whole number from low to high, with a message naming the range (and no second
    message after "not a valid number")."""

    def __init__(self, low: int, high: int):
        self.low, self.high = low, high

    def __call__(self, form, field):
        if field.process_errors or field.data is None or not self.low <= field.data <= self.high:
            field.errors.clear()  # "not a valid integer" says less than the range does
            raise StopValidation(str(NUMBER_MESSAGE) % {"low": self.low, "high": self.high})


def _today() -> date:
    return local_today()


def _planning_window(ahead_days: int) -> DateInRange:
    return DateInRange(_today, lambda: local_today() + timedelta(days=ahead_days))


def _number(label, default, low, high, **kwargs):
    return BoundedIntegerField(
        label,
        default=default,
        render_kw={"inputmode": "numeric"},
        validators=[InputRequired(_l("Enter a number.")), WholeNumber(low, high)],
        **kwargs,
    )


class YuanField(StringField):
    """An amount in yuan typed by a person; .fen holds it in fen once validated."""

    fen: int | None = None

    def pre_validate(self, form):
        self.fen = None
        if not (self.data or "").strip():
            return  # DataRequired says what is missing
        try:
            self.fen = parse_yuan(self.data or "", max_fen=MAX_PRICE_FEN)
        except MoneyError as exc:
            raise StopValidation(
                _l("Write an amount in yuan up to 100, such as 8 or 7.50.")
            ) from exc


class _PlannedForm(FlaskForm):
    """A form whose dates lie from today up to the compound's planning window."""

    date_fields: tuple[str, ...] = ()

    def __init__(self, *args, ahead_days: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        ahead = ahead_days if ahead_days is not None else policy_for(None).sessions_ahead_days
        for name in self.date_fields:
            field = self[name]
            field.validators = [*field.validators, _planning_window(ahead)]


class MealSessionForm(_PlannedForm):
    date_fields = ("day",)
    day = DateField(_l("Date"), validators=[InputRequired(_l("Choose a date."))])
    meal = SelectField(
        _l("Meal"), choices=[SelectChoice(m.value, v) for m, v in MEAL_LABELS.items()]
    )
    serves = TimeField(
        _l("Served at"), default=time(11, 30), validators=[InputRequired(_l("Enter a time."))]
    )
    cutoff_hours = _number(_l("Booking closes this many hours before"), 3, 0, 72)
    capacity = _number(_l("Meals available"), 60, 1, 1000)
    submit = SubmitField(_l("Publish meal"))


class DishForm(FlaskForm):
    name = StringField(
        _l("Set menu"), validators=[DataRequired(_l("Enter the menu's name.")), Length(max=60)]
    )
    price = YuanField(
        _l("Price (yuan)"),
        validators=[DataRequired(_l("Enter a price."))],
        render_kw={"inputmode": "decimal"},
    )
    elder_price = YuanField(
        _l("Elder price (yuan)"),
        validators=[DataRequired(_l("Enter a price."))],
        render_kw={"inputmode": "decimal"},
    )
    capacity = _number(_l("Portions"), 30, 1, 1000)
    submit = SubmitField(_l("Add menu"))

    def __init__(self, *args, elder_age: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.elder_price.label.text = _l("Elder price, %(age)s+ (yuan)", age=elder_age)

    def validate_price(self, field):
        if field.fen == 0:
            raise ValidationError(_l("A menu costs more than ¥0."))

    def validate_elder_price(self, field):
        if field.fen is not None and self.price.fen and field.fen > self.price.fen:
            raise ValidationError(_l("The elder price may not be above the standard price."))


class TierForm(FlaskForm):
    # Above the elder age, which is local policy: the rule says so next to this field.
    min_age = _number(_l("Age from"), 80, 1, 120)
    subsidy = YuanField(
        _l("Further subsidy (yuan, 0 removes the tier)"),
        validators=[DataRequired(_l("Enter an amount."))],
        render_kw={"inputmode": "decimal"},
    )
    submit = SubmitField(_l("Save age tier"))


def _birth_year(form, field):
    if field.process_errors or field.data is None or not 1900 <= field.data <= local_today().year:
        field.errors.clear()
        raise StopValidation(str(YEAR_MESSAGE) % {"year": local_today().year})


class MemberForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=60)])
    birth_year = BoundedIntegerField(
        _l("Year of birth"),
        validators=[Optional(), _birth_year],
        render_kw={"inputmode": "numeric"},
    )
    submit = SubmitField(_l("Add to my household"))

    def __init__(self, *args, elder_age: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.birth_year.description = _l("For the elder price: %(age)s and older.", age=elder_age)


class ChildForm(FlaskForm):
    name = StringField(
        _l("Child's name"), validators=[DataRequired(_l("Enter a name.")), Length(max=60)]
    )
    grade = SelectField(
        _l("Grade"), coerce=int, choices=[SelectChoice(str(n), str(n)) for n in range(1, 7)]
    )
    school = StringField(_l("School"), validators=[Length(max=100)])
    pickup_adults = TextAreaField(
        _l("Adults who may collect the child"),
        description=_l("One name per line. You can always collect the child yourself."),
        validators=[Length(max=400)],
    )
    consent = BooleanField(
        _l(
            "As the guardian, I agree that the classroom keeps this child's "
            "name, grade, school and the adults above, seen only by the "
            "classroom staff and the street office, only to run the "
            "classroom. I can withdraw this at any time."
        ),
        validators=[
            DataRequired(
                _l(
                    "A child's information is sensitive: "
                    "please give your consent as the "
                    "guardian first."
                )
            )
        ],
    )
    submit = SubmitField(_l("Register child"))


class ClassSessionsForm(_PlannedForm):
    date_fields = ("start", "end")
    start = DateField(_l("From"), validators=[InputRequired(_l("Choose a date."))])
    end = DateField(_l("To"), validators=[InputRequired(_l("Choose a date."))])
    starts = TimeField(
        _l("Starts"), default=time(16, 30), validators=[InputRequired(_l("Enter a time."))]
    )
    ends = TimeField(
        _l("Ends"), default=time(18, 0), validators=[InputRequired(_l("Enter a time."))]
    )
    capacity = _number(_l("Places"), 20, 1, 200)
    tutor = StringField(_l("Volunteer tutor"), validators=[Length(max=60)])
    submit = SubmitField(_l("Open sessions on school days"))

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The last day cannot be before the first."))
        if self.start.data and field.data and (field.data - self.start.data).days > 190:
            raise ValidationError(_l("Open at most about six months at a time."))

    def validate_ends(self, field):
        if self.starts.data and field.data and field.data <= self.starts.data:
            raise ValidationError(_l("The session must end after it starts."))


class RecurringForm(_PlannedForm):
    date_fields = ("start", "end")
    child = SelectField(_l("Child"), coerce=int)
    weekday = SelectField(
        _l("Every"),
        coerce=int,
        choices=[SelectChoice(str(n), v) for n, v in enumerate(WEEKDAY_LABELS)],
    )
    start = DateField(_l("From"), validators=[InputRequired(_l("Choose a date."))])
    end = DateField(_l("To"), validators=[InputRequired(_l("Choose a date."))])
    submit = SubmitField(_l("Book every week"))

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The last day cannot be before the first."))


class PickupForm(FlaskForm):
    adult = StringField(
        _l("Collected by"),
        validators=[DataRequired(_l("Write who collected the child.")), Length(max=60)],
    )
    exception = StringField(_l("If not a named adult: why"), validators=[Length(max=200)])
    submit = SubmitField(_l("Picked up"))


FIRST_MONTH = date(2000, 1, 1)


def month_label(value: date) -> str:
    """2026年11月 / Nov 2026."""
    return format_skeleton("yMMM", value, locale=get_locale())


class MonthInRange(DateInRange):
    """DateInRange for a month picker: the message names months, not days."""

    def __call__(self, form, field):
        if field.data is None:
            return
        low = self.earliest() if callable(self.earliest) else self.earliest
        high = self.latest() if callable(self.latest) else self.latest
        if not low <= field.data <= high:
            raise StopValidation(
                str(_l("Choose a month from %(low)s to %(high)s."))
                % {"low": month_label(low), "high": month_label(high)}
            )


class MonthForm(FlaskForm):
    """The figures page's month picker (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    month = MonthField(_l("Month"), validators=[Optional()])

    def __init__(self, *args, ahead_days: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        ahead = ahead_days if ahead_days is not None else policy_for(None).sessions_ahead_days

        def last_month() -> date:
            return (local_today() + timedelta(days=ahead)).replace(day=1)

        self.month.validators = [*self.month.validators, MonthInRange(FIRST_MONTH, last_month)]
