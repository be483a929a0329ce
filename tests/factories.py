"""Small factories for tests: compounds, dwellings, people and accounts."""

from __future__ import annotations

from decimal import Decimal
from itertools import count

from app.accounts.models import Role, RoleGrant, User
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
from app.extensions import db

PASSWORD = "correct-horse"
_seq = count(1)


def make_compound(name: str | None = None, **fields) -> Compound:
    compound = Compound(name=name or f"测试小区{next(_seq)}", **fields)
    db.session.add(compound)
    db.session.commit()
    return compound


def _unit(compound: Compound, building: str, unit: str) -> Unit:
    b = db.session.scalar(db.select(Building).filter_by(compound_id=compound.id, name=building))
    if b is None:
        b = Building(compound_id=compound.id, name=building, sort_key=building.zfill(6))
        db.session.add(b)
        db.session.flush()
    u = db.session.scalar(db.select(Unit).filter_by(building_id=b.id, name=unit))
    if u is None:
        u = Unit(building_id=b.id, name=unit, sort_key=unit.zfill(6))
        db.session.add(u)
        db.session.flush()
    return u


def make_person(compound: Compound, name: str = "王秀英", phone: str | None = None,
                owner_type: OwnerType = OwnerType.PERSON, key: str | None = None,
                birth_year: int | None = None) -> Person:
    n = next(_seq)
    person = Person(compound_id=compound.id, name=name, phone=phone, owner_type=owner_type,
                    owner_key=key or (f"phone:{phone}" if phone else f"row:{n}"),
                    birth_year=birth_year)
    db.session.add(person)
    db.session.commit()
    return person


def make_dwelling(compound: Compound, building: str = "1", unit: str = "1",
                  room: str | None = None, floor: int = 1, area: str = "60.00",
                  owner: Person | None = None, tenant: Person | None = None) -> Dwelling:
    room = room or str(100 + next(_seq))
    dwelling = Dwelling(compound_id=compound.id, unit=_unit(compound, building, unit), room=room,
                        sort_key=room.zfill(6), floor=floor, area_m2=Decimal(area))
    db.session.add(dwelling)
    db.session.flush()
    if owner:
        db.session.add(Occupancy(dwelling_id=dwelling.id, person_id=owner.id,
                                 relation=Relation.OWNER))
    if tenant:
        db.session.add(Occupancy(dwelling_id=dwelling.id, person_id=tenant.id,
                                 relation=Relation.TENANT))
    db.session.commit()
    return dwelling


def make_user(phone: str, name: str = "测试", password: str = PASSWORD,
              grants: list[tuple[Role, Compound]] = ()) -> User:
    user = User(phone=phone, name=name, password_hash="")
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    for role, compound in grants:
        db.session.add(RoleGrant(user_id=user.id, role=role, compound_id=compound.id))
    db.session.commit()
    return user


def make_resident(compound: Compound, phone: str, *, relation: Relation = Relation.OWNER,
                  **dwelling_fields) -> tuple[User, Dwelling]:
    """An activated resident with one dwelling."""
    person = make_person(compound, name=f"居民{phone[-4:]}", phone=phone)
    if relation is Relation.OWNER:
        dwelling = make_dwelling(compound, owner=person, **dwelling_fields)
    else:
        dwelling = make_dwelling(compound, tenant=person, **dwelling_fields)
    user = make_user(phone, name=person.name)
    person.user_id = user.id
    db.session.commit()
    return user, dwelling
