"""Community use cases: compounds, roster import/export, scoped lookups."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import AccessLog, User
from app.accounts.permissions import Capability
from app.accounts.permissions import Capability as C
from app.community import roster as rules
from app.community.models import (
    Building,
    Compound,
    Dwelling,
    Occupancy,
    OwnerType,
    Person,
    Relation,
    Unit,
)
from app.core import memo, settings
from app.core.errors import N_, DomainError, NotFound
from app.core.privacy import mask_phone, normalize_mobile
from app.core.security import form_id
from app.core.spreadsheet import FileRejected
from app.core.timeutil import local_today, utcnow
from app.extensions import db

MAX_FILE_BYTES = 10 * 1024 * 1024


def create_compound(
    name: str, *, district: str = "", street_office: str = "", year_built: int | None = None
) -> Compound:
    """Create a compound; the name must be new."""
    name = name.strip()
    if not name:
        raise DomainError(N_("A compound needs a name."))
    if db.session.scalar(sa.select(Compound.id).where(Compound.name == name)):
        raise DomainError(N_("A compound named %(name)s already exists."), name=name)
    compound = Compound(
        name=name, district=district, street_office=street_office, year_built=year_built
    )
    db.session.add(compound)
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
    stmt = (
        sa.select(Dwelling)
        .where(Dwelling.id.in_(mine))
        .options(
            joinedload(Dwelling.unit).joinedload(Unit.building),
            joinedload(Dwelling.compound),
            joinedload(Dwelling.members).joinedload(Occupancy.person),
        )
        .order_by(Dwelling.compound_id, Dwelling.sort_key)
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


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    not_in_file: int = 0
    dry_run: bool = False
    ignored_columns: list[str] = field(default_factory=list)


RosterRejected = FileRejected  # the file has bad rows; nothing was imported


def import_roster(
    compound: Compound, data: bytes, filename: str, *, actor: User | None, dry_run: bool = False
) -> ImportSummary:
    """Check a roster file and, unless dry_run, apply it in one transaction.

    Re-import updates dwellings by (building, unit, room) and never duplicates them.
    A file with any bad row imports nothing.
    """
    if len(data) > MAX_FILE_BYTES:
        raise DomainError(N_("The file is larger than 10 MB. Please choose a smaller file."))
    try:
        result = rules.parse_roster(data, filename)
    except rules.RosterFileError as exc:
        raise DomainError(exc.message, **exc.params) from exc
    if not result.ok:
        raise RosterRejected(result.problems)
    try:
        summary = _apply_rows(compound, result)
        summary.dry_run = dry_run
        if dry_run:
            db.session.rollback()
            return summary
        db.session.add(
            AccessLog(
                user_id=actor.id if actor else None,
                compound_id=compound.id,
                action="roster_import",
                target=f"{len(result.rows)} rows",
            )
        )
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise DomainError(
            N_(
                "Another change to this roster happened at the same time. "
                "Nothing was imported; please try again."
            )
        ) from exc
    except Exception:
        db.session.rollback()
        raise
    return summary


def _apply_rows(compound: Compound, result: rules.RosterResult) -> ImportSummary:
    return _RosterApply(compound, result).run()


class _RosterApply:
    """Apply checked roster rows to a compound: buildings, units and homes by address, people
    by their roster identity, occupancies exactly as the file says (one transaction)."""

    def __init__(self, compound: Compound, result: rules.RosterResult):
        self.compound, self.result = compound, result
        self.summary = ImportSummary(rows=len(result.rows), ignored_columns=result.ignored_columns)
        self.now = utcnow()
        cid = compound.id
        self.buildings = {
            b.name: b
            for b in db.session.scalars(sa.select(Building).where(Building.compound_id == cid))
        }
        self.units = {
            (u.building.name, u.name): u
            for u in db.session.scalars(
                sa.select(Unit)
                .join(Building)
                .where(Building.compound_id == cid)
                .options(selectinload(Unit.building))
            )
        }
        self.dwellings = {
            (d.unit.building.name, d.unit.name, d.room): d
            for d in db.session.scalars(
                sa.select(Dwelling)
                .where(Dwelling.compound_id == cid)
                .options(
                    selectinload(Dwelling.unit).selectinload(Unit.building),
                    selectinload(Dwelling.members),
                )
            )
        }
        self.people = {
            p.owner_key: p
            for p in db.session.scalars(
                sa.select(Person)
                .where(Person.compound_id == cid)
                .options(selectinload(Person.memberships))
            )
        }
        self.by_phone = {p.phone: p for p in self.people.values() if p.phone}
        self.keys_in_file = {row.owner_key for row in result.rows} | {
            row.tenant_key for row in result.rows if row.tenant_key
        }

    def run(self) -> ImportSummary:
        seen = set()
        for row in self.result.rows:
            seen.add(row.address)
            self._apply(row)
        summary = self.summary
        summary.unchanged = summary.rows - summary.created - summary.updated
        summary.not_in_file = len(set(self.dwellings) - seen)
        db.session.flush()
        return summary

    def _unit(self, row) -> Unit:
        building = self.buildings.get(row.building)
        if building is None:
            building = Building(
                compound=self.compound, name=row.building, sort_key=rules.natural_key(row.building)
            )
            db.session.add(building)
            self.buildings[row.building] = building
        unit = self.units.get((row.building, row.unit))
        if unit is None:
            unit = Unit(building=building, name=row.unit, sort_key=rules.natural_key(row.unit))
            db.session.add(unit)
            self.units[(row.building, row.unit)] = unit
        return unit

    def _apply(self, row) -> None:
        unit = self._unit(row)
        owner = self._person(
            row.owner_key,
            row.owner_name,
            row.owner_phone,
            row.address,
            owner_ref=row.owner_ref,
            owner_type=OwnerType(row.owner_type),
            birth_year=row.birth_year,
        )
        tenant = (
            self._person(row.tenant_key, row.tenant_name, row.tenant_phone)
            if row.tenant_key
            else None
        )
        dwelling = self.dwellings.get(row.address)
        created = dwelling is None
        if created:
            dwelling = Dwelling(
                compound_id=self.compound.id,
                unit=unit,
                room=row.room,
                sort_key=rules.natural_key(row.room),
                floor=row.floor,
                area_m2=row.area_m2,
            )
            db.session.add(dwelling)
            self.dwellings[row.address] = dwelling
            self.summary.created += 1
            changed = False
        else:
            changed = dwelling.floor != row.floor or dwelling.area_m2 != row.area_m2
            dwelling.floor = row.floor
            dwelling.area_m2 = row.area_m2
        changed |= _set_members(dwelling, Relation.OWNER, [owner])
        if self.result.has_tenant_columns:
            changed |= _set_members(dwelling, Relation.TENANT, [tenant] if tenant else [])
        if changed and not created:
            dwelling.updated_at = self.now
            self.summary.updated += 1

    def _existing_owner(self, key: str, name: str, phone: str | None, address) -> Person | None:
        """The same owner under a new key (an owner_ref added, contact data deleted)."""
        found = self.by_phone.get(phone) if phone else None
        if found is None and address in self.dwellings:
            found = next(
                (
                    m.person
                    for m in self.dwellings[address].members
                    if m.relation is Relation.OWNER and m.person.name == name
                ),
                None,
            )
        if found is None or found.owner_key in self.keys_in_file:
            return None
        del self.people[found.owner_key]
        found.owner_key = key
        self.people[key] = found
        return found

    def _person(self, key: str, name: str, phone: str | None, address=None, **extra) -> Person:
        person = self.people.get(key)
        if person is None and address is not None:
            person = self._existing_owner(key, name, phone, address)
        if person is None:
            person = Person(
                compound_id=self.compound.id, owner_key=key, name=name, phone=phone, **extra
            )
            db.session.add(person)
            db.session.flush()
            self.people[key] = person
            if phone:
                self.by_phone[phone] = person
            return person
        renamed = person.name != name
        rephoned = bool(phone and person.phone and phone != person.phone)
        if person.user_id and (renamed or rephoned):
            # Someone else now: the account must not follow the roster entry.
            db.session.add(
                AccessLog(
                    compound_id=self.compound.id,
                    action="account_unlinked",
                    target=f"person {person.id} (roster changed)",
                )
            )
            person.user_id = None
        if renamed and not phone:
            person.phone = None  # a new owner does not inherit the old owner's number
        person.name = name
        if phone and person.contact_deleted_at is None:
            person.phone = phone
        for attr, value in extra.items():
            setattr(person, attr, value)
        return person


def _set_members(dwelling: Dwelling, relation: Relation, people: list[Person]) -> bool:
    """Make the dwelling's members of one relation exactly these people; say if it changed."""
    wanted = {p.id for p in people}
    current = [m for m in dwelling.members if m.relation is relation]
    changed = False
    for member in current:
        if member.person_id not in wanted:
            dwelling.members.remove(member)
            changed = True
    have = {m.person_id for m in current}
    for person in people:
        if person.id not in have:
            dwelling.members.append(Occupancy(person_id=person.id, relation=relation))
            changed = True
    return changed


def roster_records(compound: Compound) -> list[list]:
    """Rows of the compound's roster in the import format (round-trips through Excel)."""
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
    records = []
    for d in db.session.scalars(stmt):
        owner = d.owners[0] if d.owners else None
        tenant = d.tenants[0] if d.tenants else None
        records.append(
            [
                d.unit.building.name,
                d.unit.name,
                d.room,
                d.floor,
                f"{d.area_m2:.2f}",
                owner.name if owner else "",
                owner.phone if owner else "",
                (owner.owner_ref or "") if owner else "",
                owner.owner_type.value if owner else "",
                owner.birth_year or "" if owner else "",
                tenant.name if tenant else "",
                (tenant.phone or "") if tenant else "",
            ]
        )
    return records


def export_roster(compound: Compound, fmt: str, *, actor: User | None) -> bytes:
    """Write the roster as CSV or XLSX; the export of personal data is logged."""
    records = roster_records(compound)
    db.session.add(
        AccessLog(
            user_id=actor.id if actor else None,
            compound_id=compound.id,
            action="roster_export",
            target=fmt,
        )
    )
    db.session.commit()
    if fmt == "csv":
        return rules.write_csv(records)
    return rules.write_xlsx(records)


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
    problems = compound_date_problems(fields, today or local_today())
    if problems:
        raise CompoundRefused(problems)
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
