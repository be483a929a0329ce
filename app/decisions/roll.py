"""Who may vote: the roll frozen when voting opens, its digest, and a person's seats."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.community.models import (
    Building,
    Dwelling,
    Occupancy,
    Person,
    Relation,
    Unit,
)
from app.decisions import rules
from app.decisions.audit import canonical
from app.decisions.models import (
    Ballot,
    BallotStatus,
    RollEntry,
    RollOwner,
    Scope,
    Vote,
)
from app.extensions import db


def _dwellings_in_scope(ballot: Ballot):
    stmt = (
        sa.select(Dwelling)
        .join(Unit)
        .join(Building)
        .where(Dwelling.compound_id == ballot.compound_id)
        .options(
            selectinload(Dwelling.unit).selectinload(Unit.building), selectinload(Dwelling.members)
        )
    )
    if ballot.scope is Scope.BUILDING:
        stmt = stmt.where(Unit.building_id == ballot.building_id)
    elif ballot.scope is Scope.UNIT:
        stmt = stmt.where(Dwelling.unit_id == ballot.unit_id)
    return list(db.session.scalars(stmt))


def _freeze_roll(ballot: Ballot) -> int:
    dwellings = _dwellings_in_scope(ballot)
    owners = {
        d.id: [m.person_id for m in d.members if m.relation is Relation.OWNER] for d in dwellings
    }
    keys = rules.voter_keys(owners)
    rows = [
        {
            "ballot_id": ballot.id,
            "dwelling_id": d.id,
            "voter_key": keys[d.id],
            "area_cm2": int(d.area_m2 * 100),
            "building": d.unit.building.name,
            "unit": d.unit.name,
            "room": d.room,
            "sort_key": f"{d.unit.building.sort_key}/{d.unit.sort_key}/{d.sort_key}",
        }
        for d in dwellings
    ]
    owner_rows = sorted({(keys[d], person) for d, people in owners.items() for person in people})
    if rows:
        db.session.execute(sa.insert(RollEntry), rows)
    if owner_rows:
        db.session.execute(
            sa.insert(RollOwner),
            [
                {"ballot_id": ballot.id, "voter_key": key, "person_id": person}
                for key, person in owner_rows
            ],
        )
    return len(rows)


def roll_digest(ballot: Ballot) -> str:
    """SHA-256 of the frozen roll and its owners: the first link of the vote log."""
    roll = db.session.execute(
        sa.select(RollEntry.dwelling_id, RollEntry.voter_key, RollEntry.area_cm2)
        .where(RollEntry.ballot_id == ballot.id)
        .order_by(RollEntry.dwelling_id)
    ).all()
    owners = db.session.execute(
        sa.select(RollOwner.voter_key, RollOwner.person_id)
        .where(RollOwner.ballot_id == ballot.id)
        .order_by(RollOwner.voter_key, RollOwner.person_id)
    ).all()
    payload = canonical(
        {
            "ballot": ballot.id,
            "rule": ballot.rule.value,
            "share": [ballot.share_num, ballot.share_den],
            "roll": [list(r) for r in roll],
            "owners": [list(o) for o in owners],
        }
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def owner_homes_in_scope(ballot: Ballot, user: User) -> list[Dwelling]:
    """The homes in this ballot's scope that the user owns on the roster today (before
    the roll is frozen, this is who will vote)."""
    if not user.is_authenticated:
        return []
    stmt = (
        sa.select(Dwelling)
        .join(Occupancy, Occupancy.dwelling_id == Dwelling.id)
        .join(Person, Person.id == Occupancy.person_id)
        .join(Unit, Unit.id == Dwelling.unit_id)
        .where(
            Person.user_id == user.id,
            Occupancy.relation == Relation.OWNER,
            Dwelling.compound_id == ballot.compound_id,
        )
        .options(selectinload(Dwelling.unit).selectinload(Unit.building))
        .order_by(Dwelling.sort_key)
        .distinct()
    )
    if ballot.scope is Scope.BUILDING:
        stmt = stmt.where(Unit.building_id == ballot.building_id)
    elif ballot.scope is Scope.UNIT:
        stmt = stmt.where(Dwelling.unit_id == ballot.unit_id)
    return list(db.session.scalars(stmt))


@dataclass
class VoterSeat:
    """One voter the user can vote for: the homes it covers and its current vote."""

    voter_key: int
    rooms: list[RollEntry]
    vote: Vote | None

    @property
    def area_cm2(self) -> int:
        return sum(r.area_cm2 for r in self.rooms)


def seats_of(ballot: Ballot, user: User) -> list[VoterSeat]:
    """The voters (groups of homes) this user votes for as an owner in the frozen roll."""
    if ballot.status is BallotStatus.DRAFT or not user.is_authenticated:
        return []
    # Who may vote is frozen with the roll: a later roster change does not hand a seat
    # (and its vote) to someone else.
    mine = sa.select(Person.id).where(Person.user_id == user.id)
    keys = set(
        db.session.scalars(
            sa.select(RollOwner.voter_key).where(
                RollOwner.ballot_id == ballot.id, RollOwner.person_id.in_(mine)
            )
        )
    )
    if not keys:
        return []
    entries = db.session.scalars(
        sa.select(RollEntry)
        .where(RollEntry.ballot_id == ballot.id, RollEntry.voter_key.in_(keys))
        .order_by(RollEntry.sort_key)
    ).all()
    votes = {
        v.voter_key: v
        for v in db.session.scalars(
            sa.select(Vote).where(Vote.ballot_id == ballot.id, Vote.voter_key.in_(keys))
        )
    }
    seats = defaultdict(list)
    for entry in entries:
        seats[entry.voter_key].append(entry)
    return [VoterSeat(key, rooms, votes.get(key)) for key, rooms in sorted(seats.items())]
