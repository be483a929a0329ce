"""The operators' pages: publishing meals and menus, the kitchen sheet and serving, the month's figures; class sessions, check-in and pick-up."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.permissions import Capability
from app.bookings import bp
from app.bookings import canteen as meals
from app.bookings import classroom as lessons
from app.bookings.forms import (
    ClassSessionsForm,
    DishForm,
    MealSessionForm,
    MonthForm,
    PickupForm,
    TierForm,
    month_label,
)
from app.bookings.models import Meal
from app.bookings.routes import REFUSED, _ahead_days, _message, _refuse
from app.community.permissions import compound_staff_required
from app.core.errors import DomainError, NotFound
from app.core.forms import ConfirmForm, refused_status
from app.core.timeutil import local_today, utcnow

MEAL_SESSION_FIELDS = {
    "A session must be in the future.": "serves",
    "Choose a day from today to %(days)s days ahead.": "day",
    "This meal is already published for that day.": "day",
    "The booking cutoff must be between 0 and 72 hours before.": "cutoff_hours",
    "Capacity must be between 1 and 1000 meals.": "capacity",
}


@bp.route("/staff/compounds/<int:compound_id>/canteen", methods=["GET", "POST"])
@compound_staff_required(Capability.RUN_CANTEEN)
def staff_canteen(compound):
    """Publish meals and set the age tiers."""
    form = MealSessionForm(prefix="s", ahead_days=_ahead_days({compound.id}))
    tier_form = TierForm(prefix="t")
    if form.submit.data and form.validate_on_submit():
        try:
            session = meals.create_meal_session(
                compound,
                day=form.day.data,
                meal=Meal(form.meal.data),
                serves=form.serves.data,
                cutoff_hours=form.cutoff_hours.data,
                capacity=form.capacity.data,
            )
        except NotFound:
            raise
        except DomainError as exc:
            _refuse(form, exc, MEAL_SESSION_FIELDS)
        else:
            flash(_("Meal published. Add its menus."), "success")
            return redirect(url_for("bookings.staff_meal", session_id=session.id))
    elif tier_form.submit.data and tier_form.validate_on_submit():
        try:
            meals.set_tier(compound, tier_form.min_age.data, tier_form.subsidy.fen)
        except NotFound:
            raise
        except DomainError as exc:
            _refuse(
                tier_form,
                exc,
                {"An age tier is an age above %(age)s and a subsidy in yuan.": "min_age"},
            )
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("bookings.staff_canteen", compound_id=compound.id))
    return render_template(
        "bookings/staff_canteen.html",
        compound=compound,
        form=form,
        tier_form=tier_form,
        tiers=meals.tiers(compound.id),
        elder_age=meals.elder_age(compound.id),
        sessions=meals.upcoming_meals({compound.id}),
    ), refused_status(form, tier_form)


def _staff_meal_session(session_id: int):
    return meals.get_meal_session(
        session_id, current_user.compound_ids_with(Capability.RUN_CANTEEN)
    )


def _staff_meal_page(session, form: DishForm | None = None, status: int = 200):
    elder_age = meals.elder_age(session.compound_id)
    return render_template(
        "bookings/staff_meal.html",
        session=session,
        form=form or DishForm(formdata=None, elder_age=elder_age),
        sheet=meals.kitchen_sheet(session),
        bookings=meals.checkin_list(session),
        confirm_form=ConfirmForm(),
        elder_age=elder_age,
    ), status


@bp.route("/staff/canteen/<int:session_id>", methods=["GET", "POST"])
@login_required
def staff_meal(session_id: int):
    """Menus, the kitchen sheet and checking diners off at service."""
    session = _staff_meal_session(session_id)
    form = DishForm(elder_age=meals.elder_age(session.compound_id))
    if form.validate_on_submit():
        try:
            meals.add_dish(
                session,
                name=form.name.data,
                price_fen=form.price.fen,
                elder_price_fen=form.elder_price.fen,
                capacity=form.capacity.data,
            )
        except NotFound:
            raise
        except DomainError as exc:
            _refuse(
                form,
                exc,
                {
                    "Enter the menu's name (at most 60 characters).": "name",
                    "Prices must be more than ¥0 and at most ¥100; the elder price may not be "
                    "above the standard price.": "price",
                    "Capacity must be between 1 and 1000 meals.": "capacity",
                },
            )
        else:
            flash(_("Menu added."), "success")
            return redirect(url_for("bookings.staff_meal", session_id=session.id))
    return _staff_meal_page(session, form, refused_status(form))


@bp.get("/staff/canteen/<int:session_id>/sheet")
@login_required
def kitchen_sheet(session_id: int):
    """The printable kitchen sheet: portions per menu and price, and the homes to serve."""
    session = _staff_meal_session(session_id)
    return render_template(
        "bookings/kitchen_sheet.html",
        session=session,
        printed_at=utcnow(),
        sheet=meals.kitchen_sheet(session),
        bookings=meals.checkin_list(session),
        elder_age=meals.elder_age(session.compound_id),
    )


@bp.post("/staff/canteen/<int:session_id>/serve/<int:line_id>")
@login_required
def serve(session_id: int, line_id: int):
    """Check a diner off at service."""
    session = _staff_meal_session(session_id)
    if ConfirmForm().validate_on_submit():
        try:
            meals.serve(line_id, session)
        except NotFound:
            raise
        except DomainError as exc:
            flash(_message(exc), "error")
            return _staff_meal_page(session, status=REFUSED)
    return redirect(url_for("bookings.staff_meal", session_id=session.id) + f"#line-{line_id}")


@bp.get("/staff/compounds/<int:compound_id>/canteen/figures")
@compound_staff_required(Capability.RUN_CANTEEN)
def canteen_figures(compound):
    """Meals served, elders served and no-shows in a month."""
    form = MonthForm(formdata=request.args, ahead_days=_ahead_days({compound.id}))
    figures = heading = None
    if form.validate():
        month = form.month.data or local_today().replace(day=1)
        form.month.data = month
        figures = meals.month_figures(compound, month.year, month.month)
        heading = month_label(month)
    return render_template(
        "bookings/figures.html", compound=compound, form=form, figures=figures, heading=heading
    ), refused_status(form)


CLASS_SESSION_FIELDS = {
    "Choose an end date after the start, within about six months.": "end",
    "A session must be in the future.": "start",
    "Choose a day from today to %(days)s days ahead.": "end",
    "Capacity must be between 1 and 200 children.": "capacity",
    "The session must end after it starts.": "ends",
}


@bp.route("/staff/compounds/<int:compound_id>/classroom", methods=["GET", "POST"])
@compound_staff_required(Capability.RUN_CLASSROOM)
def staff_classroom(compound):
    """Open sessions on school days; see who is booked."""
    form = ClassSessionsForm(ahead_days=_ahead_days({compound.id}))
    if request.method == "GET":
        today = local_today()
        form.start.data, form.end.data = today, today + timedelta(days=27)
    if form.validate_on_submit():
        try:
            created = lessons.create_class_sessions(
                compound,
                start=form.start.data,
                end=form.end.data,
                capacity=form.capacity.data,
                tutor=form.tutor.data,
                starts=form.starts.data,
                ends=form.ends.data,
            )
        except NotFound:
            raise
        except DomainError as exc:
            _refuse(form, exc, CLASS_SESSION_FIELDS)
        else:
            if created:
                flash(_("%(n)s sessions opened.", n=created), "success")
            else:
                flash(_("These school days already had sessions: none was added."), "info")
            return redirect(url_for("bookings.staff_classroom", compound_id=compound.id))
    return render_template(
        "bookings/staff_classroom.html",
        compound=compound,
        form=form,
        sessions=lessons.upcoming_classes({compound.id}, days=60, include_today=True),
    ), refused_status(form)


def _staff_class_session(session_id: int):
    return lessons.get_class_session(
        session_id, current_user.compound_ids_with(Capability.RUN_CLASSROOM)
    )


def _staff_class_page(session, status: int = 200, pickup: tuple[int, PickupForm] | None = None):
    booked, waiting = lessons.class_roster(session)
    forms = {b.id: PickupForm(formdata=None) for b in booked}
    if pickup is not None:
        if pickup[0] not in forms:
            raise NotFound()
        forms[pickup[0]] = pickup[1]
    return render_template(
        "bookings/staff_class.html",
        session=session,
        booked=booked,
        waiting=waiting,
        confirm_form=ConfirmForm(),
        pickup_forms=forms,
        check_in=lessons.check_in_state(session),
    ), status


@bp.get("/staff/classroom/<int:session_id>")
@login_required
def staff_class(session_id: int):
    """The day's register: check in, and hand over to a named adult."""
    return _staff_class_page(_staff_class_session(session_id))


@bp.post("/staff/classroom/<int:session_id>/checkin/<int:booking_id>")
@login_required
def check_in(session_id: int, booking_id: int):
    """Mark a child as arrived (on the session's day)."""
    session = _staff_class_session(session_id)
    if ConfirmForm().validate_on_submit():
        try:
            lessons.check_in(booking_id, session, actor=current_user)
        except NotFound:
            raise
        except DomainError as exc:
            flash(_message(exc), "error")
            return _staff_class_page(session, REFUSED)
    return redirect(url_for("bookings.staff_class", session_id=session.id) + f"#b-{booking_id}")


PICKUP_FIELDS = {
    "Write who collected the child.": "adult",
    "%(name)s is not one of the adults named by the guardian. Record why the child was "
    "handed over (e.g. the guardian phoned).": "exception",
}


@bp.post("/staff/classroom/<int:session_id>/pickup/<int:booking_id>")
@login_required
def pick_up(session_id: int, booking_id: int):
    """Record who collected a child."""
    session = _staff_class_session(session_id)
    form = PickupForm()
    if form.validate_on_submit():
        try:
            lessons.pick_up(
                booking_id,
                session,
                actor=current_user,
                adult=form.adult.data,
                exception=form.exception.data,
            )
        except NotFound:
            raise
        except DomainError as exc:
            _refuse(form, exc, PICKUP_FIELDS)
        else:
            flash(_("Pick-up recorded."), "success")
            return redirect(url_for("bookings.staff_class", session_id=session.id))
    return _staff_class_page(session, REFUSED, pickup=(booking_id, form))
