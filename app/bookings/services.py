"""Canteen and classroom use cases. Seats are taken with conditional UPDATEs, so no
session or dish is ever overbooked, whatever the concurrency."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from app.accounts.models import Consent, User
from app.bookings import rules
from app.bookings.models import (
    BookingStatus,
    CanteenTier,
    Child,
    ClassBooking,
    ClassSession,
    Dish,
    HouseholdMember,
    Meal,
    MealBooking,
    MealLine,
    MealSession,
    Service,
)
from app.community.models import Building, Compound, Dwelling, Relation, Unit
from app.community.services import dwellings_of, relation_of
from app.core.db import lock_rows
from app.core.errors import N_, DomainError, NotFound
from app.core.settings import policy_for
from app.core.timeutil import local_to_utc, local_today, utcnow
from app.extensions import db

CHILD_CONSENT_VERSION = "2026-11"
MAX_PRICE_FEN = rules.MAX_PRICE_FEN


def _take(model, row_id: int, n: int) -> bool:
    """Take n seats if they are free, in one statement (the database decides, not Python)."""
    result = db.session.execute(
        sa.update(model).where(model.id == row_id, model.booked + n <= model.capacity)
        .values(booked=model.booked + n).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _give_back(model, row_id: int, n: int) -> None:
    db.session.execute(
        sa.update(model).where(model.id == row_id, model.booked >= n)
        .values(booked=model.booked - n).execution_options(synchronize_session=False))


def homes_lived_in(user: User) -> list[Dwelling]:
    """The homes whose household the user belongs to: a tenant's home is the tenants'
    household, so a landlord does not see or book for the people living there."""
    homes = []
    for home in dwellings_of(user):
        relation = relation_of(user, home)
        if relation is Relation.TENANT or not any(
                m.relation is Relation.TENANT for m in home.members):
            homes.append(home)
    return homes


def home_of(user: User, dwelling_id: int) -> Dwelling:
    """One of the homes the user lives in; a forged id gives NotFound."""
    for home in homes_lived_in(user):
        if home.id == dwelling_id:
            return home
    raise NotFound()


def compound_ids_of(user: User) -> set[int]:
    return {d.compound_id for d in homes_lived_in(user)}


def _lock(model, row_id: int) -> None:
    """Lock a session row for the rest of the transaction (SQLite: the write lock), so
    everything that reads and changes its places happens one request at a time."""
    lock_rows(model.booked, model.id == row_id)


# --- household ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Diner:
    key: str  # "p<person id>" or "m<member id>"
    name: str
    birth_year: int | None
    birth_date: date | None = None

    def age_on(self, day: date) -> int | None:
        return rules.age_on(day, birth_date=self.birth_date, birth_year=self.birth_year)


def household(user: User, dwelling: Dwelling) -> list[Diner]:
    """Who the user may book meals for: themself and the members they live with."""
    diners = [Diner(f"p{m.person.id}", m.person.name, m.person.birth_year)
              for m in dwelling.members if m.person.user_id == user.id]
    members = db.session.scalars(sa.select(HouseholdMember).where(
        HouseholdMember.dwelling_id == dwelling.id).order_by(HouseholdMember.id))
    diners += [Diner(f"m{m.id}", m.name, m.birth_year, m.birth_date) for m in members]
    return diners


def add_member(user: User, dwelling: Dwelling, name: str, birth_year: int | None,
               birth_date: date | None = None) -> HouseholdMember:
    """Add someone the user lives with (for canteen bookings)."""
    dwelling = home_of(user, dwelling.id)
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise DomainError(N_("Enter a name (at most 60 characters)."))
    this_year = local_today().year
    if birth_year is not None and not 1900 <= birth_year <= this_year:
        raise DomainError(N_("Enter a year from 1900 to %(year)s, such as 1950."), year=this_year)
    if birth_date is not None:
        if not date(1900, 1, 1) <= birth_date <= local_today():
            raise DomainError(N_("Enter a birth date in the past."))
        birth_year = birth_date.year
    count = db.session.scalar(sa.select(sa.func.count(HouseholdMember.id)).where(
        HouseholdMember.dwelling_id == dwelling.id))
    if count >= 12:
        raise DomainError(N_("A household can list at most 12 members."))
    member = HouseholdMember(dwelling_id=dwelling.id, name=name, birth_year=birth_year,
                             birth_date=birth_date, added_by_id=user.id)
    db.session.add(member)
    db.session.commit()
    return member


def remove_member(user: User, member_id: int) -> int:
    """Take someone off the household list; return the home's id."""
    member = db.session.get(HouseholdMember, member_id)
    if member is None or member.dwelling_id not in {d.id for d in homes_lived_in(user)}:
        raise NotFound()
    home_id = member.dwelling_id
    db.session.delete(member)
    db.session.commit()
    return home_id


# --- canteen: operator ------------------------------------------------------------------------

def sessions_ahead_days(compound_ids) -> int:
    """How many days ahead meals and class sessions may be planned (local policy)."""
    return max((policy_for(c).sessions_ahead_days for c in compound_ids),
               default=policy_for(None).sessions_ahead_days)


def _check_planning_window(compound_id: int, *days: date, now: datetime) -> None:
    ahead = policy_for(compound_id).sessions_ahead_days
    if not all(rules.in_planning_window(day, local_today(now), ahead) for day in days):
        raise DomainError(N_("Choose a day from today to %(days)s days ahead."), days=ahead)


def tiers(compound_id: int) -> tuple[rules.AgeTier, ...]:
    return tuple(rules.AgeTier(t.min_age, t.subsidy_fen) for t in db.session.scalars(
        sa.select(CanteenTier).where(CanteenTier.compound_id == compound_id)
        .order_by(CanteenTier.min_age)))


def set_tier(compound: Compound, min_age: int, subsidy_fen: int) -> None:
    """Set (or with subsidy 0, remove) an extra age tier, e.g. 80+ pays ¥1 less."""
    if not rules.ELDER_AGE < min_age <= 120 or not 0 <= subsidy_fen <= MAX_PRICE_FEN:
        raise DomainError(N_("An age tier is an age above 60 and a subsidy in yuan."))
    tier = db.session.scalar(sa.select(CanteenTier).where(
        CanteenTier.compound_id == compound.id, CanteenTier.min_age == min_age))
    if subsidy_fen == 0:
        if tier:
            db.session.delete(tier)
    elif tier:
        tier.subsidy_fen = subsidy_fen
    else:
        db.session.add(CanteenTier(compound_id=compound.id, min_age=min_age,
                                   subsidy_fen=subsidy_fen))
    db.session.commit()


def create_meal_session(compound: Compound, *, day: date, meal: Meal, serves: time,
                        cutoff_hours: int, capacity: int, now: datetime | None = None
                        ) -> MealSession:
    """Publish a lunch or dinner; bookings close cutoff_hours before it is served."""
    now = now or utcnow()
    _check_planning_window(compound.id, day, now=now)
    serves_at = local_to_utc(datetime.combine(day, serves))
    if serves_at <= now:
        raise DomainError(N_("A session must be in the future."))
    if not 0 <= cutoff_hours <= 72:
        raise DomainError(N_("The booking cutoff must be between 0 and 72 hours before."))
    if not 1 <= capacity <= 1000:
        raise DomainError(N_("Capacity must be between 1 and 1000 meals."))
    session = MealSession(compound_id=compound.id, day=day, meal=meal, serves_at=serves_at,
                          cutoff_at=serves_at - timedelta(hours=cutoff_hours),
                          capacity=capacity)
    db.session.add(session)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise DomainError(N_("This meal is already published for that day.")) from exc
    return session


def add_dish(session: MealSession, *, name: str, price_fen: int, elder_price_fen: int,
             capacity: int) -> Dish:
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise DomainError(N_("Enter the menu's name (at most 60 characters)."))
    if not 0 < price_fen <= MAX_PRICE_FEN or not 0 <= elder_price_fen <= price_fen:
        raise DomainError(N_("Prices must be more than ¥0 and at most ¥100; the elder "
                             "price may not be above the standard price."))
    if not 1 <= capacity <= 1000:
        raise DomainError(N_("Capacity must be between 1 and 1000 meals."))
    dish = Dish(session_id=session.id, name=name, price_fen=price_fen,
                elder_price_fen=elder_price_fen, capacity=capacity)
    db.session.add(dish)
    db.session.commit()
    return dish


def get_meal_session(session_id: int, compound_ids: set[int]) -> MealSession:
    session = db.session.get(MealSession, session_id)
    if session is None or session.compound_id not in compound_ids:
        raise NotFound()
    return session


def upcoming_meals(compound_ids: set[int], now: datetime | None = None) -> list[MealSession]:
    now = now or utcnow()
    if not compound_ids:
        return []
    return list(db.session.scalars(
        sa.select(MealSession).where(MealSession.compound_id.in_(compound_ids),
                                     MealSession.serves_at > now - timedelta(hours=3))
        .options(selectinload(MealSession.dishes))
        .order_by(MealSession.serves_at)))


# --- canteen: residents -----------------------------------------------------------------------

def is_bookable(session: MealSession, now: datetime | None = None) -> bool:
    """Bookings and cancellations are open until the cutoff."""
    return rules.can_change(now or utcnow(), session.cutoff_at)


def price_table(session: MealSession, diners: list[Diner]) -> dict[str, dict[int, rules.Price]]:
    """What each diner would pay for each menu, on the meal date."""
    age_tiers = tiers(session.compound_id)
    return {d.key: {dish.id: rules.meal_price(dish.price_fen, dish.elder_price_fen,
                                              d.age_on(session.day), age_tiers)
                    for dish in session.dishes} for d in diners}


def book_meal(session: MealSession, user: User, dwelling: Dwelling,
              choices: dict[str, int], service: Service, request_key: str,
              now: datetime | None = None) -> MealBooking:
    """Book one dish per chosen diner. Refused after the cutoff or when seats run out."""
    now = now or utcnow()
    existing = db.session.scalar(sa.select(MealBooking).where(
        MealBooking.request_key == request_key))
    if existing is not None:  # the same form sent twice
        if existing.user_id != user.id:
            raise NotFound()
        return existing
    if session.compound_id != dwelling.compound_id:
        raise NotFound()
    dwelling = home_of(user, dwelling.id)
    if not rules.can_change(now, session.cutoff_at):
        raise DomainError(N_("Booking for this meal has closed."))
    diners = {d.key: d for d in household(user, dwelling)}
    chosen = {key: dish_id for key, dish_id in choices.items() if dish_id}
    if not chosen:
        raise DomainError(N_("Choose a menu for at least one person."))
    dishes = {d.id: d for d in session.dishes}
    if any(key not in diners for key in chosen) or any(d not in dishes for d in chosen.values()):
        raise DomainError(N_("Choose people of your household and menus of this meal."))
    age_tiers = tiers(session.compound_id)
    try:
        if not _take(MealSession, session.id, len(chosen)):
            db.session.rollback()
            left = session.capacity - db.session.scalar(
                sa.select(MealSession.booked).where(MealSession.id == session.id))
            raise DomainError(N_("Not enough places left for this meal (%(left)s left)."),
                              left=max(left, 0))
        # The session row is locked now: a second tab or phone waits here, then sees us.
        already = set(db.session.scalars(
            sa.select(MealLine.diner_key).join(MealBooking).where(
                MealBooking.session_id == session.id, MealBooking.dwelling_id == dwelling.id,
                MealBooking.status == BookingStatus.BOOKED)))
        twice = [diners[k].name for k in chosen if k in already]
        if twice:
            db.session.rollback()
            raise DomainError(N_("Already booked for this meal: %(names)s."),
                              names=", ".join(twice))
        for dish_id, count in Counter(chosen.values()).items():
            if not _take(Dish, dish_id, count):
                db.session.rollback()
                raise DomainError(N_("%(dish)s is sold out. Choose another menu."),
                                  dish=dishes[dish_id].name)
        booking = MealBooking(session_id=session.id, dwelling_id=dwelling.id, user_id=user.id,
                              service=service, request_key=request_key, total_fen=0)
        for key, dish_id in chosen.items():
            diner, dish = diners[key], dishes[dish_id]
            age = diner.age_on(session.day)
            price = rules.meal_price(dish.price_fen, dish.elder_price_fen, age, age_tiers)
            booking.lines.append(MealLine(dish_id=dish.id, diner_key=key, diner_name=diner.name,
                                          diner_age=age, price_fen=price.fen,
                                          price_tier=price.tier))
        booking.total_fen = sum(line.price_fen for line in booking.lines)
        db.session.add(booking)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(sa.select(MealBooking).where(
            MealBooking.request_key == request_key))
        if existing is None:
            raise
        return existing
    return booking


def my_meal_bookings(user: User) -> list[MealBooking]:
    """The bookings of the user's households, newest meal first."""
    homes = [d.id for d in homes_lived_in(user)]
    if not homes:
        return []
    return list(db.session.scalars(
        sa.select(MealBooking).join(MealSession).where(MealBooking.dwelling_id.in_(homes))
        .options(selectinload(MealBooking.lines).selectinload(MealLine.dish),
                 selectinload(MealBooking.session))
        .order_by(MealSession.serves_at.desc(), MealBooking.id.desc()).limit(50)))


def get_my_meal_booking(booking_id: int, user: User) -> MealBooking:
    booking = db.session.get(MealBooking, booking_id)
    if booking is None or booking.dwelling_id not in {d.id for d in homes_lived_in(user)}:
        raise NotFound()
    return booking


def cancel_meal(booking: MealBooking, now: datetime | None = None) -> None:
    """Cancel before the cutoff; the places go back."""
    now = now or utcnow()
    if booking.status is not BookingStatus.BOOKED:
        return  # already cancelled: a double tap changes nothing
    if not rules.can_change(now, booking.session.cutoff_at):
        raise DomainError(N_("It is past the cutoff: this booking can no longer be cancelled."))
    done = db.session.execute(
        sa.update(MealBooking).where(MealBooking.id == booking.id,
                                     MealBooking.status == BookingStatus.BOOKED)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False))
    if done.rowcount == 1:
        _give_back(MealSession, booking.session_id, len(booking.lines))
        for dish_id, count in Counter(line.dish_id for line in booking.lines).items():
            _give_back(Dish, dish_id, count)
    db.session.commit()
    db.session.refresh(booking)


# --- canteen: kitchen ---------------------------------------------------------------------------

@dataclass
class PriceCount:
    """How many portions of a menu are paid at one price, in one price tier."""

    tier: str  # "standard", "elder", "elder_80" ...
    fen: int
    count: int = 0

    @property
    def amount_fen(self) -> int:
        return self.fen * self.count


@dataclass
class SheetRow:
    dish: Dish
    dine_in: int = 0
    take_away: int = 0
    elders: int = 0
    prices: list[PriceCount] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.dine_in + self.take_away

    @property
    def amount_fen(self) -> int:
        return sum(p.amount_fen for p in self.prices)


def kitchen_sheet(session: MealSession) -> list[SheetRow]:
    """Counts per menu (dine-in / take-away / elders) so the kitchen cooks what is booked,
    and per price actually paid (the price each line was booked at, by age tier)."""
    rows = {d.id: SheetRow(d) for d in session.dishes}
    prices: dict[tuple[int, str, int], PriceCount] = {}
    for dish_id, service, tier, fen, count in db.session.execute(
            sa.select(MealLine.dish_id, MealBooking.service, MealLine.price_tier,
                      MealLine.price_fen, sa.func.count(MealLine.id))
            .join(MealBooking).where(MealBooking.session_id == session.id,
                                     MealBooking.status == BookingStatus.BOOKED)
            .group_by(MealLine.dish_id, MealBooking.service, MealLine.price_tier,
                      MealLine.price_fen)):
        row = rows[dish_id]
        if service is Service.DINE_IN:
            row.dine_in += count
        else:
            row.take_away += count
        if tier != "standard":
            row.elders += count
        price = prices.get((dish_id, tier, fen))
        if price is None:
            price = prices[dish_id, tier, fen] = PriceCount(tier, fen)
            row.prices.append(price)
        price.count += count
    for row in rows.values():
        row.prices.sort(key=lambda p: (rules.tier_age(p.tier), -p.fen))
    return list(rows.values())


def checkin_list(session: MealSession) -> list[MealBooking]:
    """The session's live bookings by home (building, unit, room), each with its diners,
    what each pays and the amount to collect; loaded in a fixed number of queries."""
    return list(db.session.scalars(
        sa.select(MealBooking)
        .join(Dwelling, Dwelling.id == MealBooking.dwelling_id)
        .join(Unit, Unit.id == Dwelling.unit_id).join(Building, Building.id == Unit.building_id)
        .where(MealBooking.session_id == session.id, MealBooking.status == BookingStatus.BOOKED)
        .options(selectinload(MealBooking.lines).selectinload(MealLine.dish),
                 selectinload(MealBooking.dwelling).selectinload(Dwelling.unit)
                 .selectinload(Unit.building))
        .order_by(Building.sort_key, Building.name, Unit.sort_key, Unit.name,
                  Dwelling.sort_key, Dwelling.room, MealBooking.id)))


def serve(line_id: int, session: MealSession, now: datetime | None = None) -> None:
    """Check a diner off at service (twice is the same as once)."""
    line = db.session.get(MealLine, line_id)
    if line is None or line.booking.session_id != session.id:
        raise NotFound()
    if line.booking.status is not BookingStatus.BOOKED:
        raise DomainError(N_("This booking was cancelled."))
    if line.served_at is None:
        line.served_at = now or utcnow()
        db.session.commit()


@dataclass
class MonthFigures:
    meals_booked: int
    meals_served: int
    elders_served: int
    no_shows: int
    revenue_fen: int


def month_figures(compound: Compound, year: int, month: int,
                  now: datetime | None = None) -> MonthFigures:
    """Meals served, elders served and no-shows (served time passed, never checked off)."""
    now = now or utcnow()
    first = date(year, month, 1)
    after = date(year + (month == 12), month % 12 + 1, 1)
    base = (sa.select(MealLine).join(MealBooking).join(MealSession)
            .where(MealSession.compound_id == compound.id, MealSession.day >= first,
                   MealSession.day < after, MealBooking.status == BookingStatus.BOOKED))
    lines = list(db.session.scalars(base.options(selectinload(MealLine.booking)
                                                 .selectinload(MealBooking.session))))
    served = [line for line in lines if line.served_at]
    return MonthFigures(
        meals_booked=len(lines), meals_served=len(served),
        elders_served=sum(1 for line in served if line.price_tier != "standard"),
        no_shows=sum(1 for line in lines
                     if not line.served_at and line.booking.session.serves_at < now),
        revenue_fen=sum(line.price_fen for line in served))


# --- classroom ----------------------------------------------------------------------------------

def create_class_sessions(compound: Compound, *, start: date, end: date, capacity: int,
                          tutor: str, starts: time = time(16, 30), ends: time = time(18, 0),
                          weekday: int | None = None, now: datetime | None = None) -> int:
    """Open the 4:30 classroom on school days from start to end; return how many were new."""
    now = now or utcnow()
    if end < start or (end - start).days > 190:
        raise DomainError(N_("Choose an end date after the start, within about six months."))
    if start < local_today(now):
        raise DomainError(N_("A session must be in the future."))
    _check_planning_window(compound.id, start, end, now=now)
    if not 1 <= capacity <= 200:
        raise DomainError(N_("Capacity must be between 1 and 200 children."))
    if ends <= starts:
        raise DomainError(N_("The session must end after it starts."))
    existing = set(db.session.scalars(sa.select(ClassSession.day).where(
        ClassSession.compound_id == compound.id, ClassSession.day.between(start, end))))
    created = 0
    for day in rules.school_days(start, end, weekday):
        if day in existing:
            continue
        db.session.add(ClassSession(compound_id=compound.id, day=day, starts=starts, ends=ends,
                                    starts_at=local_to_utc(datetime.combine(day, starts)),
                                    capacity=capacity, tutor=(tutor or "").strip()[:60]))
        created += 1
    db.session.commit()
    return created


def register_child(user: User, dwelling: Dwelling, *, name: str, grade: int, school: str,
                   pickup_adults: str, consent: bool, now: datetime | None = None) -> Child:
    """Register a pupil; refused without the guardian's separate consent (PIPL arts. 28, 31)."""
    if not consent:
        raise DomainError(N_("A child's information is sensitive: please give your consent "
                             "as the guardian first."))
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise DomainError(N_("Enter the child's name (at most 60 characters)."))
    if not 1 <= grade <= 6:
        raise DomainError(N_("The classroom is for primary pupils: grade 1 to 6."))
    adults = [a.strip()[:60] for a in (pickup_adults or "").splitlines() if a.strip()][:6]
    child = Child(dwelling_id=dwelling.id, guardian_id=user.id, name=name, grade=grade,
                  school=(school or "").strip()[:100], pickup_adults="\n".join(adults),
                  consent_at=now or utcnow(), consent_version=CHILD_CONSENT_VERSION)
    db.session.add(child)
    db.session.flush()
    db.session.add(Consent(user_id=user.id, purpose=f"child_data:{child.id}",
                           version=CHILD_CONSENT_VERSION))
    db.session.commit()
    return child


def children_of(user: User) -> list[Child]:
    return list(db.session.scalars(sa.select(Child).where(
        Child.guardian_id == user.id, Child.removed_at.is_(None)).order_by(Child.id)))


def get_child(child_id: int, user: User) -> Child:
    child = db.session.get(Child, child_id)
    if child is None or child.guardian_id != user.id or child.removed_at is not None:
        raise NotFound()
    return child


def remove_child(child: Child, now: datetime | None = None) -> None:
    """Withdraw consent: the child's data is erased; future bookings are cancelled."""
    now = now or utcnow()
    for booking in db.session.scalars(sa.select(ClassBooking).join(ClassSession).where(
            ClassBooking.child_id == child.id, ClassSession.starts_at > now,
            ClassBooking.status != BookingStatus.CANCELLED)):
        _cancel_class(booking, now)
    for booking in db.session.scalars(sa.select(ClassBooking).where(
            ClassBooking.child_id == child.id)):
        booking.picked_up_by = "-" if booking.picked_up_by else None
        booking.pickup_exception = None
    child.name, child.school, child.pickup_adults, child.grade = "-", "", "", 0
    child.removed_at = now
    for consent in db.session.scalars(sa.select(Consent).where(
            Consent.purpose == f"child_data:{child.id}", Consent.withdrawn_at.is_(None))):
        consent.withdrawn_at = now
    db.session.commit()


def upcoming_classes(compound_ids: set[int], now: datetime | None = None, days: int = 21,
                     include_today: bool = False) -> list[ClassSession]:
    """Sessions still to come (for operators: from the start of today, so the day's
    register stays reachable while the session runs)."""
    now = now or utcnow()
    if not compound_ids:
        return []
    since = ClassSession.day >= local_today(now) if include_today else \
        ClassSession.starts_at > now
    return list(db.session.scalars(
        sa.select(ClassSession).where(ClassSession.compound_id.in_(compound_ids), since,
                                      ClassSession.starts_at < now + timedelta(days=days))
        .order_by(ClassSession.starts_at)))


def get_class_session(session_id: int, compound_ids: set[int]) -> ClassSession:
    session = db.session.get(ClassSession, session_id)
    if session is None or session.compound_id not in compound_ids:
        raise NotFound()
    return session


def book_class(session: ClassSession, child: Child, now: datetime | None = None
               ) -> ClassBooking:
    """A place if one is free and nobody is waiting, else the waitlist. Booking the same
    day twice changes nothing. The session row is locked while places are counted."""
    now = now or utcnow()
    home = db.session.get(Dwelling, child.dwelling_id)
    if session.compound_id != home.compound_id:
        raise NotFound()
    if now >= session.starts_at:
        raise DomainError(N_("This session has already started."))
    _lock(ClassSession, session.id)
    booking = db.session.scalar(
        sa.select(ClassBooking).where(ClassBooking.session_id == session.id,
                                      ClassBooking.child_id == child.id)
        .execution_options(populate_existing=True))
    if booking is not None and booking.status is not BookingStatus.CANCELLED:
        db.session.commit()
        return booking
    waiting = db.session.scalar(sa.select(ClassBooking.id).where(
        ClassBooking.session_id == session.id,
        ClassBooking.status == BookingStatus.WAITLISTED).limit(1))
    status = (BookingStatus.BOOKED if waiting is None and _take(ClassSession, session.id, 1)
              else BookingStatus.WAITLISTED)
    if booking is None:
        booking = ClassBooking(session_id=session.id, child_id=child.id, status=status)
        db.session.add(booking)
    else:  # booked again after a cancellation: to the back of the queue
        booking.status, booking.cancelled_at, booking.created_at = status, None, now
    db.session.commit()
    return booking


def book_weekday(child: Child, weekday: int, start: date, end: date,
                 now: datetime | None = None) -> Counter:
    """Book one weekday every week from start to end; return counts by outcome (empty when
    there was no session to book: the caller must not call that a success)."""
    now = now or utcnow()
    home = db.session.get(Dwelling, child.dwelling_id)
    if end < start:
        raise DomainError(N_("The last day cannot be before the first."))
    _check_planning_window(home.compound_id, start, end, now=now)
    sessions = db.session.scalars(sa.select(ClassSession).where(
        ClassSession.compound_id == home.compound_id, ClassSession.day.between(start, end),
        ClassSession.starts_at > now).order_by(ClassSession.day))
    outcome = Counter()
    for session in sessions:
        if session.day.weekday() == weekday:
            outcome[book_class(session, child, now).status.value] += 1
    return outcome


def my_class_bookings(user: User, now: datetime | None = None) -> list[ClassBooking]:
    """The guardian's bookings from today on (today's too, collected or not)."""
    now = now or utcnow()
    return list(db.session.scalars(
        sa.select(ClassBooking).join(Child).join(ClassSession)
        .where(Child.guardian_id == user.id, ClassBooking.status != BookingStatus.CANCELLED,
               ClassSession.day >= local_today(now))
        .options(selectinload(ClassBooking.session), selectinload(ClassBooking.child))
        .order_by(ClassSession.starts_at)))


def get_my_class_booking(booking_id: int, user: User) -> ClassBooking:
    booking = db.session.get(ClassBooking, booking_id)
    if booking is None or booking.child.guardian_id != user.id:
        raise NotFound()
    return booking


def cancel_class(booking: ClassBooking, now: datetime | None = None) -> None:
    """Cancel before the session starts; the first child waiting gets the place."""
    now = now or utcnow()
    if booking.status is BookingStatus.CANCELLED:
        return
    if now >= booking.session.starts_at:
        raise DomainError(N_("This session has already started."))
    _cancel_class(booking, now)
    db.session.commit()


def _cancel_class(booking: ClassBooking, now: datetime) -> None:
    _lock(ClassSession, booking.session_id)
    was = db.session.scalar(sa.select(ClassBooking.status).where(
        ClassBooking.id == booking.id))
    done = db.session.execute(
        sa.update(ClassBooking).where(ClassBooking.id == booking.id,
                                      ClassBooking.status == was)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False))
    if done.rowcount != 1 or was is not BookingStatus.BOOKED:
        return
    first = db.session.scalar(
        sa.select(ClassBooking.id).where(ClassBooking.session_id == booking.session_id,
                                         ClassBooking.status == BookingStatus.WAITLISTED)
        .order_by(ClassBooking.created_at, ClassBooking.id).limit(1))
    promoted = 0
    if first is not None:
        promoted = db.session.execute(
            sa.update(ClassBooking).where(ClassBooking.id == first,
                                          ClassBooking.status == BookingStatus.WAITLISTED)
            .values(status=BookingStatus.BOOKED)
            .execution_options(synchronize_session=False)).rowcount
    if not promoted:
        _give_back(ClassSession, booking.session_id, 1)


def class_roster(session: ClassSession) -> tuple[list[ClassBooking], list[ClassBooking]]:
    """Booked children and the waitlist, in order."""
    bookings = list(db.session.scalars(
        sa.select(ClassBooking).where(ClassBooking.session_id == session.id,
                                      ClassBooking.status != BookingStatus.CANCELLED)
        .options(selectinload(ClassBooking.child).selectinload(Child.guardian))
        .order_by(ClassBooking.created_at, ClassBooking.id)))
    return ([b for b in bookings if b.status is BookingStatus.BOOKED],
            [b for b in bookings if b.status is BookingStatus.WAITLISTED])


def _roster_booking(booking_id: int, session: ClassSession) -> ClassBooking:
    booking = db.session.get(ClassBooking, booking_id)
    if booking is None or booking.session_id != session.id or \
            booking.status is not BookingStatus.BOOKED:
        raise NotFound()
    return booking


def check_in_state(session: ClassSession, now: datetime | None = None) -> str:
    """"open" on the session's day, "later" before it, "over" after it."""
    return rules.check_in_state(session.day, local_today(now))


def check_in(booking_id: int, session: ClassSession, *, actor: User,
             now: datetime | None = None) -> None:
    """Mark a child as arrived, on the session's day only."""
    now = now or utcnow()
    booking = _roster_booking(booking_id, session)
    if check_in_state(session, now) != "open":
        raise DomainError(N_("Children are checked in on the day of the session."))
    if booking.checked_in_at is None:
        booking.checked_in_at = now
        booking.recorded_by_id = actor.id
        db.session.commit()


def pick_up(booking_id: int, session: ClassSession, *, actor: User, adult: str,
            exception: str = "", now: datetime | None = None) -> None:
    """Hand the child over to a named adult; anyone else only with a recorded exception."""
    booking = _roster_booking(booking_id, session)
    if booking.checked_in_at is None:
        raise DomainError(N_("The child has not been checked in."))
    if booking.picked_up_at is not None:
        raise DomainError(N_("This child's pick-up is already recorded."))
    allowed = booking.child.adults + [booking.child.guardian.name]
    adult = (adult or "").strip()[:60]
    exception = (exception or "").strip()[:200]
    if not adult:
        raise DomainError(N_("Write who collected the child."))
    if adult not in allowed and not exception:
        raise DomainError(N_("%(name)s is not one of the adults named by the guardian. Record "
                             "why the child was handed over (e.g. the guardian phoned)."),
                          name=adult)
    booking.picked_up_at = now or utcnow()
    booking.picked_up_by = adult
    booking.pickup_exception = exception or None
    booking.recorded_by_id = actor.id
    db.session.commit()



# --- for the resident's home page ---------------------------------------------------------------

@dataclass(frozen=True)
class UpcomingBooking:
    """A meal or class booking coming up for the user's household.

    Link it with url_for(item.endpoint, **item.url_args)."""

    kind: str  # "meal" or "class"
    booking_id: int
    day: date
    starts_at: datetime  # UTC: when the meal is served or the class starts
    names: tuple[str, ...]  # the diners, or the child
    meal: Meal | None  # lunch or dinner (meals only)
    waitlisted: bool  # a class booking still on the waiting list
    endpoint: str
    url_args: dict = field(default_factory=dict, hash=False)


def upcoming_bookings(user: User, now: datetime | None = None, days: int = 3
                      ) -> list[UpcomingBooking]:
    """Meal bookings of the user's households and class bookings of the user's children
    from now to `days` days ahead, soonest first (a fixed number of queries)."""
    now = now or utcnow()
    until = now + timedelta(days=days)
    items = []
    homes = [d.id for d in homes_lived_in(user)]
    if homes:
        meals = db.session.scalars(
            sa.select(MealBooking).join(MealBooking.session)
            .where(MealBooking.dwelling_id.in_(homes),
                   MealBooking.status == BookingStatus.BOOKED,
                   MealSession.serves_at > now, MealSession.serves_at <= until)
            .options(contains_eager(MealBooking.session), selectinload(MealBooking.lines)))
        items += [UpcomingBooking("meal", b.id, b.session.day, b.session.serves_at,
                                  tuple(line.diner_name for line in b.lines), b.session.meal,
                                  False, "bookings.meal_booking", {"booking_id": b.id})
                  for b in meals]
    classes = db.session.scalars(
        sa.select(ClassBooking).join(ClassBooking.child).join(ClassBooking.session)
        .where(Child.guardian_id == user.id, Child.removed_at.is_(None),
               ClassBooking.status != BookingStatus.CANCELLED,
               ClassSession.starts_at > now, ClassSession.starts_at <= until)
        .options(contains_eager(ClassBooking.child),
                 contains_eager(ClassBooking.session)))
    items += [UpcomingBooking("class", b.id, b.session.day, b.session.starts_at,
                              (b.child.name,), None, b.status is BookingStatus.WAITLISTED,
                              "bookings.classroom", {})
              for b in classes]
    return sorted(items, key=lambda item: (item.starts_at, item.kind, item.booking_id))


@dataclass(frozen=True)
class Pickup:
    """Who collected a child from the classroom, when, and any exception noted."""

    booking_id: int
    child_name: str
    day: date
    adult: str
    picked_up_at: datetime  # UTC
    exception: str | None


def recent_pickups(user: User, now: datetime | None = None, hours: int = 24) -> list[Pickup]:
    """The user's children collected in the last `hours` hours, newest first (one query)."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(ClassBooking.id, Child.name, ClassSession.day, ClassBooking.picked_up_by,
                  ClassBooking.picked_up_at, ClassBooking.pickup_exception)
        .join(ClassBooking.child).join(ClassBooking.session)
        .where(Child.guardian_id == user.id, Child.removed_at.is_(None),
               ClassBooking.picked_up_at.is_not(None),
               ClassBooking.picked_up_at > now - timedelta(hours=hours))
        .order_by(ClassBooking.picked_up_at.desc(), ClassBooking.id.desc()))
    return [Pickup(*row) for row in rows]
