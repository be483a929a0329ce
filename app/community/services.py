"""Community use cases: compounds, roster import/export, scoped lookups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.accounts.models import AccessLog, User
from app.accounts.permissions import Capability
from app.accounts.permissions import Capability as C
from app.community import roster as rules
from app.community.models import (
    Building,
    Compound,
    Dwelling,
    Notice,
    Occupancy,
    Person,
    Relation,
    Stage,
    StageChange,
    Unit,
)
from app.core import memo, pagecache, settings
from app.core.errors import N_, DomainError, NotFound
from app.core.privacy import mask_phone, normalize_mobile
from app.core.security import form_id
from app.core.spreadsheet import FileRejected
from app.core.timeutil import local_today, utcnow
from app.extensions import db

MAX_FILE_BYTES = 10 * 1024 * 1024


def create_compound(
    name: str,
    *,
    district: str = "",
    street_office: str = "",
    year_built: int | None = None,
    office=None,
    actor: User | None = None,
) -> Compound:
    """Create a compound under a street office (a record, or one named by its district
    and street office, created when new); the name must be new. The street office's
    admins gain it at once."""
    from app.community import places
    from app.core.errors import FieldError

    name = name.strip()
    if not name:
        raise FieldError("name", N_("A compound needs a name."))
    if len(name) > 100:
        raise FieldError("name", N_("That name is too long."))
    if db.session.scalar(sa.select(Compound.id).where(Compound.name == name)):
        raise FieldError("name", N_("A compound named %(name)s already exists."), name=name)
    if year_built is not None and not 1900 <= year_built <= local_today().year:
        raise FieldError("year_built", N_("Give the year it was built, e.g. 1995."))
    if office is None and (district.strip() or street_office.strip()):
        office = places.street_office_named(district, street_office)
    compound = Compound(name=name, year_built=year_built)
    db.session.add(compound)
    db.session.flush()
    places.place_compound(compound, office)
    db.session.add(
        AccessLog(
            user_id=actor.id if actor else None,
            compound_id=compound.id,
            action="compound_created",
            target=compound.name,
        )
    )
    db.session.commit()
    return compound


def place_of(compound_id: int) -> settings.Place:
    """Where a compound sits (its district and street office), for its local policy; no
    query when the page has loaded the compound already (a resident's homes carry it)."""
    compound = db.session.get(Compound, compound_id)
    if compound is None:
        return settings.Place(compound_id)
    return settings.Place(compound_id, compound.district or "", compound.street_office or "")


settings.register_place_lookup(place_of)


def _compounds_lived_in(user: User) -> set[int]:
    """The compounds where the person is on the roster (one small query)."""
    return set(
        db.session.scalars(
            sa.select(Person.compound_id).where(Person.user_id == user.id).distinct()
        )
    )


pagecache.register_homes(
    for_page=lambda user: {d.compound_id for d in dwellings_of(user)},
    after_write=_compounds_lived_in,
)


def find_compound(ref: str) -> Compound:
    """Find a compound by id or exact name (for the CLI)."""
    compound = None
    compound_id = form_id(str(ref))
    if compound_id is not None:
        compound = db.session.get(Compound, compound_id)
    if compound is None:
        compound = db.session.scalar(sa.select(Compound).where(Compound.name == str(ref)))
    if compound is None:
        raise DomainError(N_("No compound %(ref)s."), ref=ref)
    return compound


def get_compound_for_staff(compound_id: int, user: User, *capabilities: Capability) -> Compound:
    """The compound if the user may do one of these things there (any staff role if none
    is named); otherwise NotFound."""
    if not user.is_authenticated or not user.can(compound_id, *(capabilities or (C.SEE_COMPOUND,))):
        raise NotFound()
    compound = db.session.get(Compound, compound_id)
    if compound is None:
        raise NotFound()
    return compound


def dwellings_of(user: User) -> list[Dwelling]:
    """Return the dwellings where the user is on the roster as owner or tenant.

    One query (unit, building, compound and members loaded with it), once per request."""
    if not user.is_authenticated:
        return []
    return memo.remembered(("dwellings_of", user.id), lambda: _load_dwellings_of(user.id))


def _load_dwellings_of(user_id: int) -> list[Dwelling]:
    mine = (
        sa.select(Occupancy.dwelling_id)
        .join(Person, Person.id == Occupancy.person_id)
        .where(Person.user_id == user_id)
    )
    # The notices each home's board shows now ride along (a resident has a home or two,
    # a board a handful of current notices): the home page needs no query of its own.
    now = utcnow()
    showing = sa.and_(
        Notice.compound_id == Dwelling.compound_id,
        Notice.withdrawn_at.is_(None),
        Notice.expires_at > now,
        Notice.posted_at <= now,
        sa.or_(Notice.building_id.is_(None), Notice.building_id == Unit.building_id),
        sa.or_(Notice.unit_id.is_(None), Notice.unit_id == Dwelling.unit_id),
    )
    stmt = (
        sa.select(Dwelling)
        .join(Dwelling.unit)
        .outerjoin(Notice, showing)
        .where(Dwelling.id.in_(mine))
        .options(
            contains_eager(Dwelling.unit).joinedload(Unit.building),
            contains_eager(Dwelling.board),
            joinedload(Dwelling.compound),
            joinedload(Dwelling.members).joinedload(Occupancy.person),
        )
        .order_by(
            Dwelling.compound_id, Dwelling.sort_key, Notice.pinned.desc(), Notice.posted_at.desc()
        )
    )
    return list(db.session.scalars(stmt).unique())


def relation_of(user: User, dwelling: Dwelling) -> Relation | None:
    """Return how the user belongs to the dwelling (owner before tenant), or None."""
    relations = {m.relation for m in dwelling.members if m.person.user_id == user.id}
    if Relation.OWNER in relations:
        return Relation.OWNER
    return Relation.TENANT if relations else None


def get_dwelling_or_404(dwelling_id: int, user: User) -> Dwelling:
    """Return the dwelling if the user lives there or is staff of its compound.

    A forged id gives NotFound, never another household's data.
    """
    dwelling = db.session.get(Dwelling, dwelling_id)
    if dwelling is None or not user.is_authenticated:
        raise NotFound()
    if relation_of(user, dwelling) is None and not user.can(dwelling.compound_id, C.SEE_HOMES):
        raise NotFound()
    return dwelling


def member_of(dwelling: Dwelling, person_id: int) -> Person:
    """A person on this dwelling's roster entry; a forged id gives NotFound."""
    for member in dwelling.members:
        if member.person_id == person_id:
            return member.person
    raise NotFound()


def get_staff_dwelling(dwelling_id: int, user: User, *capabilities: Capability) -> Dwelling:
    """A dwelling for staff who may do one of these things in its compound (see homes if
    none is named); a forged id gives NotFound."""
    dwelling = db.session.get(Dwelling, dwelling_id)
    if (
        dwelling is None
        or not user.is_authenticated
        or not user.can(dwelling.compound_id, *(capabilities or (C.SEE_HOMES,)))
    ):
        raise NotFound()
    return dwelling


@dataclass
class CompoundCounts:
    buildings: int = 0
    units: int = 0
    dwellings: int = 0
    area_m2: object = 0
    owners: int = 0
    tenants: int = 0
    activated_dwellings: int = 0


def compound_counts(compound_id: int) -> CompoundCounts:
    """Aggregate figures for a compound, computed in SQL."""
    counts = CompoundCounts()
    counts.buildings = db.session.scalar(
        sa.select(sa.func.count(Building.id)).where(Building.compound_id == compound_id)
    )
    counts.units = db.session.scalar(
        sa.select(sa.func.count(Unit.id)).join(Building).where(Building.compound_id == compound_id)
    )
    row = db.session.execute(
        sa.select(
            sa.func.count(Dwelling.id), sa.func.coalesce(sa.func.sum(Dwelling.area_m2), 0)
        ).where(Dwelling.compound_id == compound_id)
    ).one()
    counts.dwellings, counts.area_m2 = row
    for relation, number in db.session.execute(
        sa.select(Occupancy.relation, sa.func.count(sa.distinct(Occupancy.person_id)))
        .join(Dwelling)
        .where(Dwelling.compound_id == compound_id)
        .group_by(Occupancy.relation)
    ):
        if relation is Relation.OWNER:
            counts.owners = number
        else:
            counts.tenants = number
    counts.activated_dwellings = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Occupancy.dwelling_id))).where(
            Occupancy.dwelling_id.in_(owner_accounts(compound_id))
        )
    )
    return counts


def owner_accounts(compound_id: int):
    """Dwelling ids (subquery) where an owner has an account."""
    return (
        sa.select(Occupancy.dwelling_id)
        .join(Person)
        .where(
            Person.compound_id == compound_id,
            Person.user_id.is_not(None),
            Occupancy.relation == Relation.OWNER,
        )
    )


RosterRejected = FileRejected  # the file has bad rows; nothing was imported


def dwellings_for_letters(
    compound: Compound, *, building: str = "", only_missing: bool = True
) -> list[Dwelling]:
    """Dwellings to print letters for: one building or all, optionally only unactivated."""
    stmt = (
        sa.select(Dwelling)
        .join(Unit)
        .join(Building)
        .where(Dwelling.compound_id == compound.id)
        .options(selectinload(Dwelling.unit).selectinload(Unit.building))
        .order_by(Building.sort_key, Unit.sort_key, Dwelling.sort_key)
    )
    if building:
        stmt = stmt.where(Building.name == rules.normalize_building(building))
    if only_missing:
        stmt = stmt.where(Dwelling.id.not_in(owner_accounts(compound.id)))
    return list(db.session.scalars(stmt))


MAX_PAGE = 10_000


def clamp_page(page: int | None) -> int:
    return min(max(page or 1, 1), MAX_PAGE)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_dwellings(
    compound: Compound,
    *,
    building: str = "",
    query: str = "",
    page: int = 1,
    per_page: int = 50,
    actor: User | None = None,
):
    """A page of the compound's dwellings for staff, with members loaded.

    A phone number only matches whole (no guessing digit by digit), and the search is
    logged like any other view of a full number.
    """
    stmt = (
        sa.select(Dwelling)
        .join(Unit)
        .join(Building)
        .where(Dwelling.compound_id == compound.id)
        .options(
            selectinload(Dwelling.unit).selectinload(Unit.building),
            selectinload(Dwelling.members).selectinload(Occupancy.person),
        )
        .order_by(Building.sort_key, Unit.sort_key, Dwelling.sort_key)
    )
    if building:
        stmt = stmt.where(Building.name == rules.normalize_building(building))
    query = (query or "").strip()[:40]
    if query:
        try:
            phone = normalize_mobile(query)
        except ValueError:
            phone = None
        if phone:
            people = (
                sa.select(Occupancy.dwelling_id)
                .join(Person)
                .where(Person.compound_id == compound.id, Person.phone == phone)
            )
            stmt = stmt.where(Dwelling.id.in_(people))
            db.session.add(
                AccessLog(
                    user_id=actor.id if actor else None,
                    compound_id=compound.id,
                    action="phone_search",
                    target=mask_phone(phone),
                )
            )
            db.session.commit()
        else:
            like = f"%{escape_like(query)}%"
            people = (
                sa.select(Occupancy.dwelling_id)
                .join(Person)
                .where(Person.compound_id == compound.id, Person.name.like(like, escape="\\"))
            )
            stmt = stmt.where(
                sa.or_(Dwelling.room.like(like, escape="\\"), Dwelling.id.in_(people))
            )
    return db.paginate(stmt, page=clamp_page(page), per_page=per_page, error_out=False)


COMPOUND_FIELDS = {
    "year_built",
    "stage",
    "survey_started_on",
    "construction_started_on",
    "accepted_on",
    "management_mode",
    "management_start_on",
}
# The renovation programme's dates: nothing before this, and nothing absurdly far ahead
# (a stored 9999-12-31 broke every page doing date arithmetic with it).
PROGRAMME_START = date(2000, 1, 1)
EARLIEST_YEAR_BUILT = 1900


def compound_date_range(name: str, today: date) -> tuple[date, date]:
    """The dates a compound's field may hold: completion acceptance has happened (today at
    the latest); a survey may be entered up to a year ahead, a planned start of works or
    of management up to five years ahead."""
    ahead = {
        "survey_started_on": 1,
        "construction_started_on": 5,
        "accepted_on": 0,
        "management_start_on": 5,
    }[name]
    return PROGRAMME_START, today + timedelta(days=366 * ahead)


def compound_date_problems(fields: dict, today: date) -> dict[str, tuple[str, dict]]:
    """What is wrong with a compound's dates, per field: (msgid, params); empty if fine."""
    problems = {}
    for name in (
        "survey_started_on",
        "construction_started_on",
        "accepted_on",
        "management_start_on",
    ):
        value = fields.get(name)
        if value is None:
            continue
        low, high = compound_date_range(name, today)
        if not low <= value <= high:
            problems[name] = (
                N_("Choose a date from %(low)s to %(high)s."),
                {"low": low, "high": high},
            )
    survey, works, accepted = (
        fields.get("survey_started_on"),
        fields.get("construction_started_on"),
        fields.get("accepted_on"),
    )
    if survey and works and works < survey and "construction_started_on" not in problems:
        problems["construction_started_on"] = (
            N_("Construction cannot start before the survey (%(date)s)."),
            {"date": survey},
        )
    if works and accepted and accepted < works and "accepted_on" not in problems:
        problems["accepted_on"] = (
            N_("Completion acceptance cannot be before construction started (%(date)s)."),
            {"date": works},
        )
    year = fields.get("year_built")
    if year is not None and not EARLIEST_YEAR_BUILT <= year <= today.year:
        problems["year_built"] = (
            N_("Enter a year from %(low)s to %(high)s."),
            {"low": EARLIEST_YEAR_BUILT, "high": today.year},
        )
    return problems


class CompoundRefused(DomainError):
    """The compound's new dates do not hold together; problems maps field -> message."""

    def __init__(self, problems: dict[str, tuple[str, dict]]):
        super().__init__(N_("Check the dates."))
        self.problems = problems


def update_compound(
    compound: Compound, *, actor: User, today: date | None = None, **fields
) -> None:
    """Change a compound's stage, dates or management mode (committee or street office)."""
    if not actor.can(compound.id, C.MANAGE_ROSTER):
        raise NotFound()
    unknown = set(fields) - COMPOUND_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    today = today or local_today()
    problems = compound_date_problems(fields, today)
    if problems:
        raise CompoundRefused(problems)
    stage = fields.get("stage")
    if stage is not None and stage is not compound.stage:
        # The programme's timeline: each change of stage, on the day it names, by whom.
        dated = {
            Stage.SURVEYING: "survey_started_on",
            Stage.IN_CONSTRUCTION: "construction_started_on",
            Stage.ACCEPTED: "accepted_on",
            Stage.MANAGED: "management_start_on",
        }.get(stage)
        on = fields.get(dated) if dated else None
        db.session.add(
            StageChange(
                compound_id=compound.id,
                from_stage=compound.stage,
                to_stage=stage,
                on=on if on and on <= today else today,
                actor_id=actor.id,
            )
        )
    for name, value in fields.items():
        setattr(compound, name, value)
    db.session.add(
        AccessLog(
            user_id=actor.id,
            compound_id=compound.id,
            action="compound_updated",
            target=",".join(sorted(fields)),
        )
    )
    db.session.commit()


def staff_compounds(user: User) -> list[Compound]:
    """The compounds where the user holds any staff role."""
    ids = user.compound_ids_for()
    if not ids:
        return []
    return list(
        db.session.scalars(sa.select(Compound).where(Compound.id.in_(ids)).order_by(Compound.name))
    )


def get_compound_or_404(compound_id: int) -> Compound:
    compound = db.session.get(Compound, compound_id)
    if compound is None:
        raise NotFound()
    return compound
