"""Canteen and classroom pages: residents book, operators run the service.

A refused form is shown again with 422, the input kept and each message next to its
field; a rule that refuses a button shows the page again with the reason (also 422).
"""

import secrets
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.bookings import bp, shared
from app.bookings import canteen as meals
from app.bookings import classroom as lessons
from app.bookings.forms import (
    MEAL_LABELS,
    SERVICE_LABELS,
    WEEKDAY_LABELS,
    ChildForm,
    MemberForm,
    RecurringForm,
    tier_label,
)
from app.bookings.models import BookingStatus, Service
from app.bookings.rules import is_elder_tier
from app.core import pagecache
from app.core.errors import DomainError, NotFound
from app.core.forms import ConfirmForm, refused_status
from app.core.i18n import fmt_money
from app.core.security import form_id
from app.core.timeutil import local_today, utcnow

REFUSED = 422


@bp.context_processor
def labels():
    return {
        "MEAL_LABELS": MEAL_LABELS,
        "SERVICE_LABELS": SERVICE_LABELS,
        "price_tier_label": tier_label,
        "is_elder_tier": is_elder_tier,
        "WEEKDAY_LABELS": WEEKDAY_LABELS,
        "BookingStatus": BookingStatus,
    }


def _posted_id(name: str) -> int:
    """An id posted in a form; anything that is not an id is simply not found."""
    value = form_id(request.form.get(name))
    if value is None:
        raise NotFound()
    return value


def _message(exc: DomainError) -> str:
    return _(exc.message, **exc.params)


def _refuse(form, exc: DomainError, fields: dict[str, str] | None = None) -> None:
    """Show a rule's refusal next to the field it is about, else above the form."""
    name = (fields or {}).get(exc.message)
    if name:
        form[name].errors = [*form[name].errors, _message(exc)]
    else:
        form.form_errors.append(_message(exc))


def _ahead_days(compound_ids) -> int:
    return shared.sessions_ahead_days(compound_ids)


# --- residents: canteen ----------------------------------------------------------------------


@bp.get("/canteen")
@login_required
@pagecache.per_person
def canteen():
    """Meals I can book, and my household's bookings."""
    return render_template(
        "bookings/canteen.html",
        now=utcnow(),
        sessions=meals.upcoming_meals(compound_ids := shared.compound_ids_of(current_user)),
        bookings=meals.my_meal_bookings(current_user),
        elder_age=shared.elder_age(compound_ids),
    )


@bp.route("/canteen/<int:session_id>", methods=["GET", "POST"])
@login_required
@pagecache.per_person
def book_meal(session_id: int):
    """Choose a menu for each person of my household; the price follows their age."""
    session = meals.get_meal_session(session_id, shared.compound_ids_of(current_user))
    homes = [d for d in shared.homes_lived_in(current_user) if d.compound_id == session.compound_id]
    home, chosen, service, errors = homes[0], {}, None, {}
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        home = shared.home_of(current_user, _posted_id("home"))
        for diner in meals.household(current_user, home):
            value = request.form.get(f"dish-{diner.key}", "0").strip()
            if value not in ("", "0"):
                chosen[diner.key] = _dish_id(value)
        posted = request.form.get("service", "")
        service = next((s for s in Service if s.value == posted), None)
        if service is None:
            errors["service"] = _("Choose to eat in or take away.")
        else:
            try:
                booking = meals.book_meal(
                    session,
                    current_user,
                    home,
                    chosen,
                    service,
                    (request.form.get("request_key") or "")[:32] or secrets.token_hex(16),
                )
            except NotFound:
                raise
            except DomainError as exc:
                errors["form"] = _message(exc)
            else:
                flash(_("Booked. Total %(total)s.", total=fmt_money(booking.total_fen)), "success")
                return redirect(url_for("bookings.meal_booking", booking_id=booking.id))
    diners = meals.household(current_user, home)
    return render_template(
        "bookings/book_meal.html",
        session=session,
        home=home,
        homes=homes,
        diners=diners,
        prices=meals.price_table(session, diners),
        request_key=secrets.token_hex(16),
        chosen=chosen,
        service=service,
        errors=errors,
        open=meals.is_bookable(session),
        elder_age=meals.elder_age(session.compound_id),
    ), REFUSED if errors else 200


def _dish_id(value: str) -> int:
    dish_id = form_id(value)
    if dish_id is None:
        raise NotFound()
    return dish_id


def _meal_booking_page(booking, status: int = 200):
    return render_template(
        "bookings/meal_booking.html",
        booking=booking,
        can_cancel=booking.status is BookingStatus.BOOKED and meals.is_bookable(booking.session),
        elder_age=meals.elder_age(booking.session.compound_id),
    ), status


@bp.get("/canteen/bookings/<int:booking_id>")
@login_required
def meal_booking(booking_id: int):
    """One of my household's meal bookings, with each diner's price."""
    return _meal_booking_page(meals.get_my_meal_booking(booking_id, current_user))


@bp.post("/canteen/bookings/<int:booking_id>/cancel")
@login_required
def cancel_meal(booking_id: int):
    """Cancel a meal booking before the cutoff."""
    booking = meals.get_my_meal_booking(booking_id, current_user)
    if ConfirmForm().validate_on_submit():
        try:
            meals.cancel_meal(booking, actor=current_user)
        except NotFound:
            raise
        except DomainError as exc:
            flash(_message(exc), "error")
            return _meal_booking_page(booking, REFUSED)
        flash(_("Booking cancelled."), "success")
    return redirect(url_for("bookings.meal_booking", booking_id=booking.id))


# --- residents: household --------------------------------------------------------------------


@bp.route("/household", methods=["GET", "POST"])
@login_required
def household():
    """The people I live with (for meal bookings)."""
    homes = shared.homes_lived_in(current_user)
    if not homes:
        raise NotFound()
    home = homes[0]
    if "home" in request.args:
        home_id = form_id(request.args["home"])
        if home_id is None:
            raise NotFound()
        home = shared.home_of(current_user, home_id)
    form = MemberForm(elder_age=meals.elder_age(home.compound_id))
    if form.validate_on_submit():
        try:
            meals.add_member(current_user, home, form.name.data, form.birth_year.data)
        except NotFound:
            raise
        except DomainError as exc:
            _refuse(
                form,
                exc,
                {
                    "Enter a name (at most 60 characters).": "name",
                    "Enter a year from 1900 to %(year)s, such as 1950.": "birth_year",
                },
            )
        else:
            flash(_("Added."), "success")
            return redirect(url_for("bookings.household", home=home.id))
    return render_template(
        "bookings/household.html",
        form=form,
        home=home,
        homes=homes,
        diners=meals.household(current_user, home),
        confirm_form=ConfirmForm(),
    ), refused_status(form)


@bp.post("/household/members/<int:member_id>/remove")
@login_required
def remove_member(member_id: int):
    """Take someone off my household list."""
    if ConfirmForm().validate_on_submit():
        home_id = meals.remove_member(current_user, member_id)
        flash(_("Removed."), "success")
        return redirect(url_for("bookings.household", home=home_id))
    return redirect(url_for("bookings.household"))


# --- residents: classroom --------------------------------------------------------------------


def _classroom_page(recurring: RecurringForm | None = None, status: int = 200):
    children = lessons.children_of(current_user)
    compound_ids = shared.compound_ids_of(current_user)
    if recurring is None:
        recurring = RecurringForm(formdata=None, ahead_days=_ahead_days(compound_ids))
        today = local_today()
        recurring.start.data = today
        recurring.end.data = date(today.year + (today.month == 12), today.month % 12 + 1, 28)
    recurring.child.choices = [(c.id, c.name) for c in children]
    now = utcnow()
    bookings = lessons.my_class_bookings(current_user, now)
    return render_template(
        "bookings/classroom.html",
        children=children,
        recurring=recurring,
        now=now,
        sessions=lessons.upcoming_classes(compound_ids, now),
        booked={(b.session_id, b.child_id): b for b in bookings},
        bookings=[b for b in bookings if b.picked_up_at is None],  # collected: shown above
        pickups=lessons.recent_pickups(current_user, now, hours=7 * 24),
        confirm_form=ConfirmForm(),
    ), status


@bp.get("/classroom")
@login_required
@pagecache.per_person
def classroom():
    """My children, the coming sessions, our bookings and who collected the children."""
    return _classroom_page()


@bp.route("/classroom/children/new", methods=["GET", "POST"])
@login_required
def new_child():
    """Register a child, after the guardian's separate consent."""
    homes = shared.homes_lived_in(current_user)
    if not homes:
        raise NotFound()
    form = ChildForm()
    if form.validate_on_submit():
        try:
            lessons.register_child(
                current_user,
                homes[0],
                name=form.name.data,
                grade=form.grade.data,
                school=form.school.data,
                pickup_adults=form.pickup_adults.data,
                consent=form.consent.data,
            )
        except NotFound:
            raise
        except DomainError as exc:
            _refuse(form, exc)
        else:
            flash(_("Registered."), "success")
            return redirect(url_for("bookings.classroom"))
    return render_template("bookings/new_child.html", form=form), refused_status(form)


@bp.post("/classroom/children/<int:child_id>/remove")
@login_required
def remove_child(child_id: int):
    """Withdraw consent: the child's data is erased and future bookings cancelled."""
    child = lessons.get_child(child_id, current_user)
    if ConfirmForm().validate_on_submit():
        lessons.remove_child(child, actor=current_user)
        flash(_("The child's information was deleted."), "success")
    return redirect(url_for("bookings.classroom"))


@bp.post("/classroom/sessions/<int:session_id>/book")
@login_required
def book_class(session_id: int):
    """Book one session for my child (or join its waiting list)."""
    session = lessons.get_class_session(session_id, shared.compound_ids_of(current_user))
    child = lessons.get_child(_posted_id("child"), current_user)
    if ConfirmForm().validate_on_submit():
        try:
            booking = lessons.book_class(session, child)
        except NotFound:
            raise
        except DomainError as exc:
            flash(_message(exc), "error")
            return _classroom_page(status=REFUSED)
        if booking.status is BookingStatus.BOOKED:
            flash(_("%(name)s has a place.", name=child.name), "success")
        else:
            flash(
                _(
                    "The session is full: %(name)s is on the waiting list and gets a place "
                    "automatically if one frees up.",
                    name=child.name,
                ),
                "info",
            )
    return redirect(url_for("bookings.classroom"))


@bp.post("/classroom/recurring")
@login_required
def book_recurring():
    """Book the same weekday every week for my child."""
    child = lessons.get_child(_posted_id("child"), current_user)
    form = RecurringForm(ahead_days=_ahead_days(shared.compound_ids_of(current_user)))
    form.child.choices = [(c.id, c.name) for c in lessons.children_of(current_user)]
    if not form.validate_on_submit():
        return _classroom_page(form, REFUSED)
    try:
        outcome = lessons.book_weekday(child, form.weekday.data, form.start.data, form.end.data)
    except NotFound:
        raise
    except DomainError as exc:
        _refuse(form, exc, {"The last day cannot be before the first.": "end"})
        return _classroom_page(form, REFUSED)
    booked, waiting = outcome.get("booked", 0), outcome.get("waitlisted", 0)
    if not booked and not waiting:
        form.end.errors = [
            *form.end.errors,
            _(
                "There is no session on a %(weekday)s in these dates: nothing was booked.",
                weekday=WEEKDAY_LABELS[form.weekday.data],
            ),
        ]
        return _classroom_page(form, REFUSED)
    flash(
        _(
            "Booked: %(booked)s days; on the waiting list: %(waiting)s days.",
            booked=booked,
            waiting=waiting,
        ),
        "success" if booked else "info",
    )
    return redirect(url_for("bookings.classroom"))


@bp.post("/classroom/bookings/<int:booking_id>/cancel")
@login_required
def cancel_class(booking_id: int):
    """Cancel a classroom booking; the first child waiting moves up."""
    booking = lessons.get_my_class_booking(booking_id, current_user)
    if ConfirmForm().validate_on_submit():
        try:
            lessons.cancel_class(booking, actor=current_user)
        except NotFound:
            raise
        except DomainError as exc:
            flash(_message(exc), "error")
            return _classroom_page(status=REFUSED)
        flash(_("Booking cancelled."), "success")
    return redirect(url_for("bookings.classroom"))
