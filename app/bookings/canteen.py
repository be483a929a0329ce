"""The happiness canteen: the household booked for, meal sessions and their menus,
bookings and cancellations before the cutoff, the kitchen's sheet and the month's figures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from app.accounts.models import User
from app.bookings import rules
from app.bookings.models import (
    BookingStatus,
    CanteenTier,
    Dish,
    HouseholdMember,
    Meal,
    MealBooking,
    MealLine,
    MealSession,
    Service,
)
from app.bookings.shared import (
    check_planning_window,
    give_back,
    home_of,
    homes_lived_in,
    take_seats,
)
from app.community.models import Building, Compound, Dwelling, Unit
from app.core import events
from app.core.errors import N_, DomainError, NotFound
from app.core.settings import policy_for
from app.core.timeutil import local_to_utc, local_today, utcnow
from app.extensions import db

MAX_PRICE_FEN = rules.MAX_PRICE_FEN


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
    diners = [
        Diner(f"p{m.person.id}", m.person.name, m.person.birth_year)
        for m in dwelling.members
        if m.person.user_id == user.id
    ]
    members = db.session.scalars(
        sa.select(HouseholdMember)
        .where(HouseholdMember.dwelling_id == dwelling.id)
        .order_by(HouseholdMember.id)
    )
    diners += [Diner(f"m{m.id}", m.name, m.birth_year, m.birth_date) for m in members]
    return diners


def add_member(
    user: User,
    dwelling: Dwelling,
    name: str,
    birth_year: int | None,
    birth_date: date | None = None,
) -> HouseholdMember:
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
    count = db.session.scalar(
        sa.select(sa.func.count(HouseholdMember.id)).where(
            HouseholdMember.dwelling_id == dwelling.id
        )
    )
    if count >= 12:
        raise DomainError(N_("A household can list at most 12 members."))
    member = HouseholdMember(
        dwelling_id=dwelling.id,
        name=name,
        birth_year=birth_year,
        birth_date=birth_date,
        added_by_id=user.id,
    )
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


def tiers(compound_id: int) -> tuple[rules.AgeTier, ...]:
    """The compound's extra age tiers: those its district or street office sets as policy,
    with the canteen's own tiers over them (for an age the canteen sets, its amount)."""
    policy = policy_for(compound_id)
    by_age = {age: fen for age, fen in policy.elder_tiers}
    for age, fen in db.session.execute(
        sa.select(CanteenTier.min_age, CanteenTier.subsidy_fen).where(
            CanteenTier.compound_id == compound_id
        )
    ):
        by_age[age] = fen
    return tuple(
        rules.AgeTier(age, fen)
        for age, fen in sorted(by_age.items())
        if fen and age > policy.elder_age
    )


def elder_age(compound_id: int) -> int:
    return policy_for(compound_id).elder_age


def set_tier(compound: Compound, min_age: int, subsidy_fen: int) -> None:
    """Set (or with subsidy 0, remove) an extra age tier, e.g. 80+ pays ¥1 less."""
    age = elder_age(compound.id)
    if not age < min_age <= 120 or not 0 <= subsidy_fen <= MAX_PRICE_FEN:
        raise DomainError(N_("An age tier is an age above %(age)s and a subsidy in yuan."), age=age)
    tier = db.session.scalar(
        sa.select(CanteenTier).where(
            CanteenTier.compound_id == compound.id, CanteenTier.min_age == min_age
        )
    )
    if subsidy_fen == 0:
        if tier:
            db.session.delete(tier)
    elif tier:
        tier.subsidy_fen = subsidy_fen
    else:
        db.session.add(
            CanteenTier(compound_id=compound.id, min_age=min_age, subsidy_fen=subsidy_fen)
        )
    db.session.commit()


def create_meal_session(
    compound: Compound,
    *,
    day: date,
    meal: Meal,
    serves: time,
    cutoff_hours: int,
    capacity: int,
    now: datetime | None = None,
) -> MealSession:
    """Publish a lunch or dinner; bookings close cutoff_hours before it is served."""
    now = now or utcnow()
    check_planning_window(compound.id, day, now=now)
    serves_at = local_to_utc(datetime.combine(day, serves))
    if serves_at <= now:
        raise DomainError(N_("A session must be in the future."))
    if not 0 <= cutoff_hours <= 72:
        raise DomainError(N_("The booking cutoff must be between 0 and 72 hours before."))
    if not 1 <= capacity <= 1000:
        raise DomainError(N_("Capacity must be between 1 and 1000 meals."))
    session = MealSession(
        compound_id=compound.id,
        day=day,
        meal=meal,
        serves_at=serves_at,
        cutoff_at=serves_at - timedelta(hours=cutoff_hours),
        capacity=capacity,
    )
    db.session.add(session)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise DomainError(N_("This meal is already published for that day.")) from exc
    return session


def add_dish(
    session: MealSession, *, name: str, price_fen: int, elder_price_fen: int, capacity: int
) -> Dish:
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise DomainError(N_("Enter the menu's name (at most 60 characters)."))
    if not 0 < price_fen <= MAX_PRICE_FEN or not 0 <= elder_price_fen <= price_fen:
        raise DomainError(
            N_(
                "Prices must be more than ¥0 and at most ¥100; the elder "
                "price may not be above the standard price."
            )
        )
    if not 1 <= capacity <= 1000:
        raise DomainError(N_("Capacity must be between 1 and 1000 meals."))
    dish = Dish(
        session_id=session.id,
        name=name,
        price_fen=price_fen,
        elder_price_fen=elder_price_fen,
        capacity=capacity,
    )
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
    return list(
        db.session.scalars(
            sa.select(MealSession)
            .where(
                MealSession.compound_id.in_(compound_ids),
                MealSession.serves_at > now - timedelta(hours=3),
            )
            .options(selectinload(MealSession.dishes))
            .order_by(MealSession.serves_at)
        )
    )


# --- canteen: residents -----------------------------------------------------------------------


def is_bookable(session: MealSession, now: datetime | None = None) -> bool:
    """Bookings and cancellations are open until the cutoff."""
    return rules.can_change(now or utcnow(), session.cutoff_at)


def price_table(session: MealSession, diners: list[Diner]) -> dict[str, dict[int, rules.Price]]:
    """What each diner would pay for each menu, on the meal date."""
    age_tiers, from_age = tiers(session.compound_id), elder_age(session.compound_id)
    return {
        d.key: {
            dish.id: rules.meal_price(
                dish.price_fen,
                dish.elder_price_fen,
                d.age_on(session.day),
                age_tiers,
                elder_age=from_age,
            )
            for dish in session.dishes
        }
        for d in diners
    }


def book_meal(
    session: MealSession,
    user: User,
    dwelling: Dwelling,
    choices: dict[str, int],
    service: Service,
    request_key: str,
    now: datetime | None = None,
) -> MealBooking:
    """Book one dish per chosen diner. Refused after the cutoff or when seats run out."""
    now = now or utcnow()
    existing = db.session.scalar(
        sa.select(MealBooking).where(MealBooking.request_key == request_key)
    )
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
    age_tiers, from_age = tiers(session.compound_id), elder_age(session.compound_id)
    try:
        if not take_seats(MealSession, session.id, len(chosen)):
            db.session.rollback()
            left = session.capacity - db.session.scalar(
                sa.select(MealSession.booked).where(MealSession.id == session.id)
            )
            raise DomainError(
                N_("Not enough places left for this meal (%(left)s left)."), left=max(left, 0)
            )
        # The session row is locked now: a second tab or phone waits here, then sees us.
        already = set(
            db.session.scalars(
                sa.select(MealLine.diner_key)
                .join(MealBooking)
                .where(
                    MealBooking.session_id == session.id,
                    MealBooking.dwelling_id == dwelling.id,
                    MealBooking.status == BookingStatus.BOOKED,
                )
            )
        )
        twice = [diners[k].name for k in chosen if k in already]
        if twice:
            db.session.rollback()
            raise DomainError(
                N_("Already booked for this meal: %(names)s."), names=", ".join(twice)
            )
        for dish_id, count in Counter(chosen.values()).items():
            if not take_seats(Dish, dish_id, count):
                db.session.rollback()
                raise DomainError(
                    N_("%(dish)s is sold out. Choose another menu."), dish=dishes[dish_id].name
                )
        booking = MealBooking(
            session_id=session.id,
            dwelling_id=dwelling.id,
            user_id=user.id,
            service=service,
            request_key=request_key,
            total_fen=0,
        )
        for key, dish_id in chosen.items():
            diner, dish = diners[key], dishes[dish_id]
            age = diner.age_on(session.day)
            price = rules.meal_price(
                dish.price_fen, dish.elder_price_fen, age, age_tiers, elder_age=from_age
            )
            booking.lines.append(
                MealLine(
                    dish_id=dish.id,
                    diner_key=key,
                    diner_name=diner.name,
                    diner_age=age,
                    price_fen=price.fen,
                    price_tier=price.tier,
                )
            )
        booking.total_fen = sum(line.price_fen for line in booking.lines)
        db.session.add(booking)
        db.session.flush()
        events.meal_booked.send(booking, actor=user)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(
            sa.select(MealBooking).where(MealBooking.request_key == request_key)
        )
        if existing is None:
            raise
        return existing
    return booking


def my_meal_bookings(user: User) -> list[MealBooking]:
    """The bookings of the user's households, newest meal first."""
    homes = [d.id for d in homes_lived_in(user)]
    if not homes:
        return []
    return list(
        db.session.scalars(
            sa.select(MealBooking)
            .join(MealBooking.session)
            .where(MealBooking.dwelling_id.in_(homes))
            .options(
                contains_eager(MealBooking.session),
                selectinload(MealBooking.lines).joinedload(MealLine.dish),
            )
            .order_by(MealSession.serves_at.desc(), MealBooking.id.desc())
            .limit(50)
        )
    )


def get_my_meal_booking(booking_id: int, user: User) -> MealBooking:
    booking = db.session.get(MealBooking, booking_id)
    if booking is None or booking.dwelling_id not in {d.id for d in homes_lived_in(user)}:
        raise NotFound()
    return booking


def cancel_meal(
    booking: MealBooking, now: datetime | None = None, *, actor: User | None = None
) -> None:
    """Cancel before the cutoff; the places go back."""
    now = now or utcnow()
    if booking.status is not BookingStatus.BOOKED:
        return  # already cancelled: a double tap changes nothing
    if not rules.can_change(now, booking.session.cutoff_at):
        raise DomainError(N_("It is past the cutoff: this booking can no longer be cancelled."))
    done = db.session.execute(
        sa.update(MealBooking)
        .where(MealBooking.id == booking.id, MealBooking.status == BookingStatus.BOOKED)
        .values(status=BookingStatus.CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    cancelled = done.rowcount == 1
    if cancelled:
        give_back(MealSession, booking.session_id, len(booking.lines))
        for dish_id, count in Counter(line.dish_id for line in booking.lines).items():
            give_back(Dish, dish_id, count)
    db.session.flush()
    db.session.refresh(booking)
    if cancelled:
        events.booking_cancelled.send(booking, actor=actor, by_operator=False)
    db.session.commit()


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
        sa.select(
            MealLine.dish_id,
            MealBooking.service,
            MealLine.price_tier,
            MealLine.price_fen,
            sa.func.count(MealLine.id),
        )
        .join(MealBooking)
        .where(MealBooking.session_id == session.id, MealBooking.status == BookingStatus.BOOKED)
        .group_by(MealLine.dish_id, MealBooking.service, MealLine.price_tier, MealLine.price_fen)
    ):
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
    from_age = elder_age(session.compound_id)
    for row in rows.values():
        row.prices.sort(key=lambda p: (rules.tier_age(p.tier, from_age), -p.fen))
    return list(rows.values())


def checkin_list(session: MealSession) -> list[MealBooking]:
    """The session's live bookings by home (building, unit, room), each with its diners,
    what each pays and the amount to collect; loaded in a fixed number of queries."""
    return list(
        db.session.scalars(
            sa.select(MealBooking)
            .join(Dwelling, Dwelling.id == MealBooking.dwelling_id)
            .join(Unit, Unit.id == Dwelling.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .where(MealBooking.session_id == session.id, MealBooking.status == BookingStatus.BOOKED)
            .options(
                selectinload(MealBooking.lines).selectinload(MealLine.dish),
                selectinload(MealBooking.dwelling)
                .selectinload(Dwelling.unit)
                .selectinload(Unit.building),
            )
            .order_by(
                Building.sort_key,
                Building.name,
                Unit.sort_key,
                Unit.name,
                Dwelling.sort_key,
                Dwelling.room,
                MealBooking.id,
            )
        )
    )


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


def month_figures(
    compound: Compound, year: int, month: int, now: datetime | None = None
) -> MonthFigures:
    """Meals served, elders served and no-shows (served time passed, never checked off)."""
    now = now or utcnow()
    first = date(year, month, 1)
    after = date(year + (month == 12), month % 12 + 1, 1)
    base = (
        sa.select(MealLine)
        .join(MealBooking)
        .join(MealSession)
        .where(
            MealSession.compound_id == compound.id,
            MealSession.day >= first,
            MealSession.day < after,
            MealBooking.status == BookingStatus.BOOKED,
        )
    )
    lines = list(
        db.session.scalars(
            base.options(selectinload(MealLine.booking).selectinload(MealBooking.session))
        )
    )
    served = [line for line in lines if line.served_at]
    return MonthFigures(
        meals_booked=len(lines),
        meals_served=len(served),
        elders_served=sum(1 for line in served if line.price_tier != "standard"),
        no_shows=sum(
            1 for line in lines if not line.served_at and line.booking.session.serves_at < now
        ),
        revenue_fen=sum(line.price_fen for line in served),
    )
