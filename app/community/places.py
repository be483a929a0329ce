"""Places above the compound (districts, street offices), the roles held over them, a
compound's stages through time, and the compound side of the programme's overview: which
compounds a person oversees, filtered and counted in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from app.accounts.models import OfficeGrant, Role, RoleGrant, User
from app.community.models import (
    Building,
    Compound,
    District,
    Dwelling,
    Stage,
    StageChange,
    StreetOffice,
)
from app.core.errors import N_, DomainError, NotFound
from app.extensions import db

STAGE_ORDER = list(Stage)


OFFICE_ROLES = (Role.STREET_ADMIN, Role.CITY_ADMIN)


# -- districts and street offices --------------------------------------------------------


def street_office_named(district_name: str, office_name: str) -> StreetOffice:
    """The street office of that name in that district, both created when new."""
    district_name, office_name = district_name.strip(), office_name.strip()
    if not district_name or not office_name:
        raise DomainError(N_("Name the district and the street office."))
    if len(district_name) > 60 or len(office_name) > 100:
        raise DomainError(N_("That name is too long."))
    district = db.session.scalar(sa.select(District).where(District.name == district_name))
    if district is None:
        district = District(name=district_name)
        db.session.add(district)
        db.session.flush()
    office = db.session.scalar(
        sa.select(StreetOffice).where(
            StreetOffice.district_id == district.id, StreetOffice.name == office_name
        )
    )
    if office is None:
        office = StreetOffice(district_id=district.id, name=office_name)
        db.session.add(office)
        db.session.flush()
    return office


def all_offices() -> list[StreetOffice]:
    return list(
        db.session.scalars(
            sa.select(StreetOffice)
            .join(District)
            .options(joinedload(StreetOffice.district))
            .order_by(District.name, StreetOffice.name)
        )
    )


def all_districts() -> list[District]:
    return list(db.session.scalars(sa.select(District).order_by(District.name)))


# -- who oversees what --------------------------------------------------------------------


@dataclass(frozen=True)
class Oversight:
    """What a person sees above the compound: the whole city, or some street offices."""

    city: bool
    office_ids: frozenset[int]

    @property
    def any(self) -> bool:
        return self.city or bool(self.office_ids)

    def covers(self, compound: Compound) -> bool:
        return self.city or compound.street_office_id in self.office_ids


def oversight_of(user: User) -> Oversight:
    """The street offices a person administers, or the city (none for everyone else)."""
    if not getattr(user, "is_authenticated", False):
        return Oversight(False, frozenset())
    grants = user.office_grants
    return Oversight(
        any(g.role is Role.CITY_ADMIN for g in grants),
        frozenset(
            g.street_office_id
            for g in grants
            if g.role is Role.STREET_ADMIN and g.street_office_id is not None
        ),
    )


def offices_overseen(oversight: Oversight) -> list[StreetOffice]:
    offices = all_offices()
    return [o for o in offices if oversight.city or o.id in oversight.office_ids]


def grant_office(user: User, role: Role, office: StreetOffice | None) -> OfficeGrant:
    """Make the person street-office admin of `office` (every compound of it, now and
    later) or city admin (office None). Idempotent."""
    if role not in OFFICE_ROLES or (role is Role.STREET_ADMIN) != (office is not None):
        raise DomainError(N_("A street-office admin needs a street office; the city none."))
    office_id = office.id if office else None
    grant = db.session.scalar(
        sa.select(OfficeGrant).where(
            OfficeGrant.user_id == user.id,
            OfficeGrant.role == role,
            OfficeGrant.street_office_id.is_(None)
            if office_id is None
            else OfficeGrant.street_office_id == office_id,
        )
    )
    if grant is None:
        grant = OfficeGrant(user_id=user.id, role=role, street_office_id=office_id)
        db.session.add(grant)
        db.session.flush()
        if office is not None:
            compounds = db.session.scalars(
                sa.select(Compound.id).where(Compound.street_office_id == office.id)
            )
            for compound_id in compounds:
                _derive(grant, compound_id)
    db.session.commit()
    return grant


def _derive(grant: OfficeGrant, compound_id: int) -> None:
    """The compound-level role an office grant gives in one compound (unless the person
    holds that role there already)."""
    held = db.session.scalar(
        sa.select(RoleGrant.id).where(
            RoleGrant.user_id == grant.user_id,
            RoleGrant.role == grant.role,
            RoleGrant.compound_id == compound_id,
        )
    )
    if held is None:
        db.session.add(
            RoleGrant(
                user_id=grant.user_id,
                role=grant.role,
                compound_id=compound_id,
                office_grant_id=grant.id,
            )
        )


def place_compound(compound: Compound, office: StreetOffice | None) -> None:
    """Put the compound under a street office (its admins gain it, the former office's
    lose it) and keep the names the local policy's scopes use. Not committed."""
    old = compound.street_office_id
    compound.street_office_id = office.id if office else None
    compound.street_office = office.name if office else ""
    compound.district = office.district.name if office else ""
    if old is not None and old != compound.street_office_id:
        for grant in db.session.scalars(
            sa.select(RoleGrant)
            .join(OfficeGrant, OfficeGrant.id == RoleGrant.office_grant_id)
            .where(RoleGrant.compound_id == compound.id, OfficeGrant.street_office_id == old)
        ):
            db.session.delete(grant)
    if office is not None and old != office.id:
        db.session.flush()
        for grant in db.session.scalars(
            sa.select(OfficeGrant).where(
                OfficeGrant.street_office_id == office.id, OfficeGrant.role == Role.STREET_ADMIN
            )
        ):
            _derive(grant, compound.id)


# -- stages -------------------------------------------------------------------------------


def stage_history(compound_id: int) -> list[StageChange]:
    return list(
        db.session.scalars(
            sa.select(StageChange)
            .where(StageChange.compound_id == compound_id)
            .order_by(StageChange.on, StageChange.id)
        )
    )


# -- the overview's compounds ---------------------------------------------------------------


@dataclass(frozen=True)
class CompoundFilter:
    district_id: int | None = None
    office_id: int | None = None
    stage: Stage | None = None
    built_from: int | None = None
    built_to: int | None = None


def overseen_compounds(oversight: Oversight, wanted: CompoundFilter = CompoundFilter()):
    """The ids of the compounds the person oversees that match the filter (a subquery)."""
    stmt = sa.select(Compound.id).outerjoin(
        StreetOffice, StreetOffice.id == Compound.street_office_id
    )
    if not oversight.city:
        stmt = stmt.where(Compound.street_office_id.in_(oversight.office_ids or {0}))
    if wanted.district_id:
        stmt = stmt.where(StreetOffice.district_id == wanted.district_id)
    if wanted.office_id:
        stmt = stmt.where(Compound.street_office_id == wanted.office_id)
    if wanted.stage:
        stmt = stmt.where(Compound.stage == wanted.stage)
    if wanted.built_from:
        stmt = stmt.where(Compound.year_built >= wanted.built_from)
    if wanted.built_to:
        stmt = stmt.where(Compound.year_built <= wanted.built_to)
    return stmt


def get_overseen_compound(compound_id: int, user: User) -> Compound:
    """A compound the person oversees; a forged id or another office's gives NotFound."""
    compound = db.session.get(Compound, compound_id)
    if compound is None or not oversight_of(user).covers(compound):
        raise NotFound()
    return compound


@dataclass
class CompoundSize:
    compound: Compound
    buildings: int = 0
    homes: int = 0
    area_m2: object = 0  # Decimal


def compounds_page(ids_query, page: int, per_page: int) -> tuple[list[CompoundSize], int]:
    """One page of compounds (by district, street office, name) with their buildings,
    homes and floor area, in two statements; and how many match in all."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(ids_query.subquery()))
    buildings = (
        sa.select(sa.func.count(Building.id))
        .where(Building.compound_id == Compound.id)
        .scalar_subquery()
    )
    homes = (
        sa.select(sa.func.count(Dwelling.id))
        .where(Dwelling.compound_id == Compound.id)
        .scalar_subquery()
    )
    area = (
        sa.select(sa.func.coalesce(sa.func.sum(Dwelling.area_m2), 0))
        .where(Dwelling.compound_id == Compound.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Compound, buildings, homes, area)
        .where(Compound.id.in_(ids_query))
        .outerjoin(StreetOffice, StreetOffice.id == Compound.street_office_id)
        .outerjoin(District, District.id == StreetOffice.district_id)
        .order_by(District.name, StreetOffice.name, Compound.name)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return [CompoundSize(c, b or 0, h or 0, a or 0) for c, b, h, a in rows], total or 0


@dataclass
class Totals:
    compounds: int = 0
    buildings: int = 0
    homes: int = 0
    area_m2: object = 0


def totals(ids_query) -> Totals:
    """Compounds, buildings, homes and floor area of every matching compound, in SQL."""
    buildings = db.session.scalar(
        sa.select(sa.func.count(Building.id)).where(Building.compound_id.in_(ids_query))
    )
    homes, area = db.session.execute(
        sa.select(
            sa.func.count(Dwelling.id), sa.func.coalesce(sa.func.sum(Dwelling.area_m2), 0)
        ).where(Dwelling.compound_id.in_(ids_query))
    ).one()
    compounds = db.session.scalar(sa.select(sa.func.count()).select_from(ids_query.subquery()))
    return Totals(compounds or 0, buildings or 0, homes or 0, area or 0)


def stage_counts(ids_query) -> dict[Stage, int]:
    counts = dict.fromkeys(Stage, 0)
    for stage, number in db.session.execute(
        sa.select(Compound.stage, sa.func.count(Compound.id))
        .where(Compound.id.in_(ids_query))
        .group_by(Compound.stage)
    ):
        counts[stage] = number
    return counts


def acceptances_by_month(ids_query) -> list[tuple[date, int]]:
    """(first of the month, compounds accepted that month), oldest first."""
    months: dict[date, int] = {}
    for (accepted,) in db.session.execute(
        sa.select(Compound.accepted_on).where(
            Compound.id.in_(ids_query), Compound.accepted_on.is_not(None)
        )
    ):
        key = accepted.replace(day=1)
        months[key] = months.get(key, 0) + 1
    return sorted(months.items())
