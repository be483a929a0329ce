"""The roster as files: importing a spreadsheet of homes and owners (checked whole, applied in one transaction) and exporting it."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.accounts.models import AccessLog, User
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
from app.community.services import MAX_FILE_BYTES, RosterRejected
from app.core.errors import N_, DomainError
from app.core.timeutil import utcnow
from app.extensions import db


@dataclass
class ImportSummary:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    not_in_file: int = 0
    dry_run: bool = False
    ignored_columns: list[str] = field(default_factory=list)


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
