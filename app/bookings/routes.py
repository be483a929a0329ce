"""Canteen and classroom pages: residents book, operators run the service."""

import secrets
from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.forms import ConfirmForm
from app.bookings import bp, services
from app.bookings.forms import (
    MEAL_LABELS,
    SERVICE_LABELS,
    TIER_LABELS,
    WEEKDAY_LABELS,
    ChildForm,
    ClassSessionsForm,
    DishForm,
    MealSessionForm,
    MemberForm,
    PickupForm,
    RecurringForm,
    TierForm,
)
from app.bookings.models import BookingStatus, Meal, Service
from app.core.errors import N_, DomainError, NotFound
from app.core.flashing import flash_error, flash_form_errors
from app.core.money import MoneyError, parse_yuan
from app.core.permissions import compound_staff_required
from app.core.timeutil import local_today, utcnow


@bp.app_context_processor
def labels():
    return {"MEAL_LABELS": MEAL_LABELS, "SERVICE_LABELS": SERVICE_LABELS,
            "TIER_LABELS": TIER_LABELS, "WEEKDAY_LABELS": WEEKDAY_LABELS,
            "BookingStatus": BookingStatus}


def _form_id(name: str) -> int:
    """An id posted in a form; anything that is not a plausible id is simply not found."""
    value = request.form.get(name, "")
    if not value.isdigit() or not 0 < int(value) < 2**31:
        raise NotFound()
    return int(value)


def _yuan(text: str) -> int:
    try:
        return parse_yuan(text, max_fen=services.MAX_PRICE_FEN)
    except MoneyError as exc:
        raise DomainError(N_("Write an amount in yuan such as 8 or 7.50.")) from exc


# --- residents: canteen ----------------------------------------------------------------------

@bp.get("/canteen")
@login_required
def canteen():
    """Meals I can book, and my household's bookings."""
    return render_template(
        "bookings/canteen.html", now=utcnow(),
        sessions=services.upcoming_meals(services.compound_ids_of(current_user)),
        bookings=services.my_meal_bookings(current_user))


@bp.route("/canteen/<int:session_id>", methods=["GET", "POST"])
@login_required
def book_meal(session_id: int):
    """Choose a menu for each person of my household; the price follows their age."""
    session = services.get_meal_session(session_id, services.compound_ids_of(current_user))
    homes = [d for d in services.homes_lived_in(current_user)
             if d.compound_id == session.compound_id]
    home = homes[0]
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        home = services.home_of(current_user, _form_id("home"))
        choices = {d.key: request.form.get(f"dish-{d.key}", 0, type=int)
                   for d in services.household(current_user, home)}
        try:
            service = Service(request.form.get("service", ""))
            booking = services.book_meal(session, current_user, home, choices, service,
                                         (request.form.get("request_key") or "")[:32]
                                         or secrets.token_hex(16))
        except ValueError:
            flash(_("Choose to eat in or take away."), "error")
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Booked. Total %(total)s.", total=_money(booking.total_fen)), "success")
            return redirect(url_for("bookings.meal_booking", booking_id=booking.id))
    diners = services.household(current_user, home)
    return render_template("bookings/book_meal.html", session=session, home=home, homes=homes,
                           diners=diners, prices=services.price_table(session, diners),
                           request_key=secrets.token_hex(16),
                           open=services.is_bookable(session))


def _money(fen: int) -> str:
    from app.core.i18n import fmt_money

    return fmt_money(fen)


@bp.get("/canteen/bookings/<int:booking_id>")
@login_required
def meal_booking(booking_id: int):
    """One of my household's meal bookings, with each diner's price."""
    booking = services.get_my_meal_booking(booking_id, current_user)
    return render_template("bookings/meal_booking.html", booking=booking,
                           can_cancel=booking.status is BookingStatus.BOOKED
                           and services.is_bookable(booking.session))


@bp.post("/canteen/bookings/<int:booking_id>/cancel")
@login_required
def cancel_meal(booking_id: int):
    """Cancel a meal booking before the cutoff."""
    booking = services.get_my_meal_booking(booking_id, current_user)
    if ConfirmForm().validate_on_submit():
        try:
            services.cancel_meal(booking)
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Booking cancelled."), "success")
    return redirect(url_for("bookings.meal_booking", booking_id=booking.id))


# --- residents: household --------------------------------------------------------------------

@bp.route("/household", methods=["GET", "POST"])
@login_required
def household():
    """The people I live with (for meal bookings)."""
    homes = services.homes_lived_in(current_user)
    if not homes:
        raise NotFound()
    home_id = request.args.get("home", "")
    home = services.home_of(current_user, int(home_id)) if home_id.isdigit() and \
        int(home_id) < 2**31 else homes[0]
    form = MemberForm()
    if form.validate_on_submit():
        try:
            services.add_member(current_user, home, form.name.data, form.birth_year.data)
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Added."), "success")
            return redirect(url_for("bookings.household", home=home.id))
    return render_template("bookings/household.html", form=form, home=home, homes=homes,
                           diners=services.household(current_user, home),
                           confirm_form=ConfirmForm())


@bp.post("/household/members/<int:member_id>/remove")
@login_required
def remove_member(member_id: int):
    """Take someone off my household list."""
    if ConfirmForm().validate_on_submit():
        services.remove_member(current_user, member_id)
        flash(_("Removed."), "success")
    return redirect(url_for("bookings.household"))


# --- residents: classroom --------------------------------------------------------------------

@bp.get("/classroom")
@login_required
def classroom():
    """My children, the coming sessions and our bookings."""
    children = services.children_of(current_user)
    recurring = RecurringForm()
    recurring.child.choices = [(c.id, c.name) for c in children]
    today = local_today()
    recurring.start.data, recurring.end.data = today, date(today.year + (today.month == 12),
                                                           today.month % 12 + 1, 28)
    return render_template(
        "bookings/classroom.html", children=children, recurring=recurring,
        sessions=services.upcoming_classes(services.compound_ids_of(current_user)),
        bookings=services.my_class_bookings(current_user), confirm_form=ConfirmForm())


@bp.route("/classroom/children/new", methods=["GET", "POST"])
@login_required
def new_child():
    """Register a child, after the guardian's separate consent."""
    homes = services.homes_lived_in(current_user)
    if not homes:
        raise NotFound()
    form = ChildForm()
    if form.validate_on_submit():
        try:
            services.register_child(current_user, homes[0], name=form.name.data,
                                    grade=form.grade.data, school=form.school.data,
                                    pickup_adults=form.pickup_adults.data,
                                    consent=form.consent.data)
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Registered."), "success")
            return redirect(url_for("bookings.classroom"))
    return render_template("bookings/new_child.html", form=form)


@bp.post("/classroom/children/<int:child_id>/remove")
@login_required
def remove_child(child_id: int):
    """Withdraw consent: the child's data is erased and future bookings cancelled."""
    child = services.get_child(child_id, current_user)
    if ConfirmForm().validate_on_submit():
        services.remove_child(child)
        flash(_("The child's information was deleted."), "success")
    return redirect(url_for("bookings.classroom"))


@bp.post("/classroom/sessions/<int:session_id>/book")
@login_required
def book_class(session_id: int):
    """Book one session for my child (or join its waiting list)."""
    session = services.get_class_session(session_id, services.compound_ids_of(current_user))
    child = services.get_child(_form_id("child"), current_user)
    if ConfirmForm().validate_on_submit():
        try:
            booking = services.book_class(session, child)
        except DomainError as exc:
            flash_error(exc)
        else:
            if booking.status is BookingStatus.BOOKED:
                flash(_("%(name)s has a place.", name=child.name), "success")
            else:
                flash(_("The session is full: %(name)s is on the waiting list and gets a place "
                        "automatically if one frees up.", name=child.name), "info")
    return redirect(url_for("bookings.classroom"))


@bp.post("/classroom/recurring")
@login_required
def book_recurring():
    """Book the same weekday every week for my child."""
    children = services.children_of(current_user)
    form = RecurringForm()
    form.child.choices = [(c.id, c.name) for c in children]
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("bookings.classroom"))
    child = services.get_child(form.child.data, current_user)
    try:
        outcome = services.book_weekday(child, form.weekday.data, form.start.data, form.end.data)
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(_("Booked: %(booked)s days; on the waiting list: %(waiting)s days.",
                booked=outcome.get("booked", 0), waiting=outcome.get("waitlisted", 0)),
              "success")
    return redirect(url_for("bookings.classroom"))


@bp.post("/classroom/bookings/<int:booking_id>/cancel")
@login_required
def cancel_class(booking_id: int):
    """Cancel a classroom booking; the first child waiting moves up."""
    booking = services.get_my_class_booking(booking_id, current_user)
    if ConfirmForm().validate_on_submit():
        try:
            services.cancel_class(booking)
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Booking cancelled."), "success")
    return redirect(url_for("bookings.classroom"))


# --- operators: canteen ------------------------------------------------------------------------

@bp.route("/staff/compounds/<int:compound_id>/canteen", methods=["GET", "POST"])
@compound_staff_required(*services.CANTEEN_ROLES)
def staff_canteen(compound):
    """Publish meals and set the age tiers."""
    form = MealSessionForm(prefix="s")
    tier_form = TierForm(prefix="t")
    if form.submit.data and form.validate_on_submit():
        try:
            session = services.create_meal_session(
                compound, day=form.day.data, meal=Meal(form.meal.data), serves=form.serves.data,
                cutoff_hours=form.cutoff_hours.data, capacity=form.capacity.data)
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Meal published. Add its menus."), "success")
            return redirect(url_for("bookings.staff_meal", session_id=session.id))
    elif tier_form.submit.data and tier_form.validate_on_submit():
        try:
            services.set_tier(compound, tier_form.min_age.data, _yuan(tier_form.subsidy.data))
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("bookings.staff_canteen", compound_id=compound.id))
    return render_template("bookings/staff_canteen.html", compound=compound, form=form,
                           tier_form=tier_form, tiers=services.tiers(compound.id),
                           sessions=services.upcoming_meals({compound.id}))


def _staff_meal_session(session_id: int):
    return services.get_meal_session(session_id, current_user.compound_ids_for(
        *services.CANTEEN_ROLES))


@bp.route("/staff/canteen/<int:session_id>", methods=["GET", "POST"])
@login_required
def staff_meal(session_id: int):
    """Menus, the kitchen sheet and checking diners off at service."""
    session = _staff_meal_session(session_id)
    form = DishForm()
    if form.validate_on_submit():
        try:
            services.add_dish(session, name=form.name.data, price_fen=_yuan(form.price.data),
                              elder_price_fen=_yuan(form.elder_price.data),
                              capacity=form.capacity.data)
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Menu added."), "success")
            return redirect(url_for("bookings.staff_meal", session_id=session.id))
    return render_template("bookings/staff_meal.html", session=session, form=form,
                           sheet=services.kitchen_sheet(session),
                           lines=services.session_lines(session), confirm_form=ConfirmForm())


@bp.get("/staff/canteen/<int:session_id>/sheet")
@login_required
def kitchen_sheet(session_id: int):
    """The printable kitchen sheet: portions per menu."""
    session = _staff_meal_session(session_id)
    return render_template("bookings/kitchen_sheet.html", session=session,
                           sheet=services.kitchen_sheet(session))


@bp.post("/staff/canteen/<int:session_id>/serve/<int:line_id>")
@login_required
def serve(session_id: int, line_id: int):
    """Check a diner off at service."""
    session = _staff_meal_session(session_id)
    if ConfirmForm().validate_on_submit():
        try:
            services.serve(line_id, session)
        except DomainError as exc:
            flash_error(exc)
    return redirect(url_for("bookings.staff_meal", session_id=session.id) + f"#line-{line_id}")


@bp.get("/staff/compounds/<int:compound_id>/canteen/figures")
@compound_staff_required(*services.CANTEEN_ROLES)
def canteen_figures(compound):
    """Meals served, elders served and no-shows in a month."""
    today = local_today()
    try:
        year, month = (int(x) for x in request.args.get("month", "").split("-"))
        date(year, month, 1)
        if not 2000 <= year <= 2100:
            raise ValueError(year)
    except ValueError:
        year, month = today.year, today.month
    return render_template("bookings/figures.html", compound=compound, year=year, month=month,
                           figures=services.month_figures(compound, year, month))


# --- operators: classroom ----------------------------------------------------------------------

@bp.route("/staff/compounds/<int:compound_id>/classroom", methods=["GET", "POST"])
@compound_staff_required(*services.CLASSROOM_ROLES)
def staff_classroom(compound):
    """Open sessions on school days; see who is booked."""
    form = ClassSessionsForm()
    if request.method == "GET":
        today = local_today()
        form.start.data, form.end.data = today, today + timedelta(days=27)
    if form.validate_on_submit():
        try:
            created = services.create_class_sessions(
                compound, start=form.start.data, end=form.end.data,
                capacity=form.capacity.data, tutor=form.tutor.data, starts=form.starts.data,
                ends=form.ends.data)
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("%(n)s sessions opened.", n=created), "success")
            return redirect(url_for("bookings.staff_classroom", compound_id=compound.id))
    return render_template("bookings/staff_classroom.html", compound=compound, form=form,
                           sessions=services.upcoming_classes({compound.id}, days=60,
                                                              include_today=True))


def _staff_class_session(session_id: int):
    return services.get_class_session(session_id, current_user.compound_ids_for(
        *services.CLASSROOM_ROLES))


@bp.get("/staff/classroom/<int:session_id>")
@login_required
def staff_class(session_id: int):
    """The day's register: check in, and hand over to a named adult."""
    session = _staff_class_session(session_id)
    booked, waiting = services.class_roster(session)
    return render_template("bookings/staff_class.html", session=session, booked=booked,
                           waiting=waiting, confirm_form=ConfirmForm(), pickup_form=PickupForm())


@bp.post("/staff/classroom/<int:session_id>/checkin/<int:booking_id>")
@login_required
def check_in(session_id: int, booking_id: int):
    """Mark a child as arrived."""
    session = _staff_class_session(session_id)
    if ConfirmForm().validate_on_submit():
        services.check_in(booking_id, session, actor=current_user)
    return redirect(url_for("bookings.staff_class", session_id=session.id))


@bp.post("/staff/classroom/<int:session_id>/pickup/<int:booking_id>")
@login_required
def pick_up(session_id: int, booking_id: int):
    """Record who collected a child."""
    session = _staff_class_session(session_id)
    form = PickupForm()
    if form.validate_on_submit():
        try:
            services.pick_up(booking_id, session, actor=current_user, adult=form.adult.data,
                             exception=form.exception.data)
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Pick-up recorded."), "success")
    else:
        flash_form_errors(form)
    return redirect(url_for("bookings.staff_class", session_id=session.id))
