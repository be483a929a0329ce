"""Reading ballots for pages: a staff member's or a resident's, scoped so that a forged id
is not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.permissions import Capability
from app.community.models import (
    Compound,
    Dwelling,
    Occupancy,
    Person,
    Relation,
    Unit,
)
from app.core.errors import N_, NotFound
from app.core.timeutil import utcnow
from app.decisions.models import (
    Ballot,
    BallotStatus,
    RollOwner,
    Scope,
    Vote,
)
from app.extensions import db

# Option labels are English msgids, translated where they are shown.
YES, NO, ABSTAIN = N_("Yes"), N_("No"), N_("Abstain")


MODE_START_EARLIEST, MODE_START_LATEST = date(2000, 1, 1), date(2100, 12, 31)


def get_ballot_for_staff(ballot_id: int, user: User) -> Ballot:
    """The ballot if the user runs votes in its compound; otherwise NotFound."""
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or not user.is_authenticated or not user.can(
            ballot.compound_id, Capability.RUN_VOTES):
        raise NotFound()
    return ballot


def compound_ballots(compound: Compound) -> list[Ballot]:
    return list(db.session.scalars(sa.select(Ballot).where(Ballot.compound_id == compound.id)
                                   .order_by(Ballot.id.desc())))


def _my_homes(user: User):
    """The user's homes on the roster (as owner or tenant), with where they are."""
    return (sa.select(Dwelling.id.label("dwelling_id"), Dwelling.compound_id, Dwelling.unit_id,
                      Unit.building_id, Occupancy.relation)
            .join(Occupancy, Occupancy.dwelling_id == Dwelling.id)
            .join(Person, Person.id == Occupancy.person_id)
            .join(Unit, Unit.id == Dwelling.unit_id)
            .where(Person.user_id == user.id).subquery())


def _covers_one_of(homes, *, owner: bool = False):
    """SQL: the ballot's scope covers one of these homes (one the user owns, if owner)."""
    covers = sa.and_(
        homes.c.compound_id == Ballot.compound_id,
        sa.or_(Ballot.scope == Scope.COMPOUND,
               sa.and_(Ballot.scope == Scope.BUILDING, Ballot.building_id == homes.c.building_id),
               sa.and_(Ballot.scope == Scope.UNIT, Ballot.unit_id == homes.c.unit_id)))
    if owner:
        covers = sa.and_(covers, homes.c.relation == Relation.OWNER)
    return sa.select(homes.c.dwelling_id).where(covers).exists()


def ballots_for_resident(user: User) -> list[Ballot]:
    """Published-for-notice and later ballots whose scope covers one of the user's homes."""
    if not user.is_authenticated:
        return []
    return list(db.session.scalars(
        sa.select(Ballot).where(Ballot.status != BallotStatus.DRAFT,
                                _covers_one_of(_my_homes(user)))
        .order_by(Ballot.closes_at.desc(), Ballot.id.desc())))


def get_ballot_for_resident(ballot_id: int, user: User) -> Ballot:
    """A ballot the user may read (it covers one of their homes and is not a draft)."""
    if not user.is_authenticated:
        raise NotFound()
    ballot = db.session.scalar(sa.select(Ballot).where(
        Ballot.id == ballot_id, Ballot.status != BallotStatus.DRAFT,
        _covers_one_of(_my_homes(user))))
    if ballot is None:
        raise NotFound()
    return ballot


@dataclass
class NoticeBallot:
    """A ballot under notice that covers one of the user's homes (for the to-do list)."""

    ballot: Ballot
    opens_at: datetime
    as_owner: bool  # the user owns a home it covers, so will vote when it opens


def ballots_in_notice(user: User) -> list[NoticeBallot]:
    """Ballots whose notice is out and voting not yet open, covering the user's homes,
    soonest opening first. One query."""
    if not user.is_authenticated:
        return []
    homes = _my_homes(user)
    rows = db.session.execute(
        sa.select(Ballot, _covers_one_of(homes, owner=True).label("as_owner"))
        .where(Ballot.status == BallotStatus.NOTICE, _covers_one_of(homes))
        .order_by(Ballot.opens_at, Ballot.id))
    return [NoticeBallot(ballot, ballot.opens_at, bool(as_owner)) for ballot, as_owner in rows]


def pending_ballots(user: User, now: datetime | None = None) -> list[Ballot]:
    """Open ballots where this owner has a voter seat without a vote yet, closing soonest
    first. One query, however many ballots there are."""
    if not user.is_authenticated:
        return []
    now = now or utcnow()
    mine = sa.select(Person.id).where(Person.user_id == user.id)
    voted = sa.select(Vote.id).where(Vote.ballot_id == RollOwner.ballot_id,
                                     Vote.voter_key == RollOwner.voter_key).exists()
    unvoted_seat = sa.select(RollOwner.id).where(
        RollOwner.ballot_id == Ballot.id, RollOwner.person_id.in_(mine), ~voted).exists()
    return list(db.session.scalars(
        sa.select(Ballot).where(Ballot.status == BallotStatus.OPEN, Ballot.opens_at <= now,
                                Ballot.closes_at > now, unvoted_seat)
        .order_by(Ballot.closes_at, Ballot.id)))


def published_ballots(compound_id: int) -> list[Ballot]:
    """Ballots with a published result, newest first (shown on the compound page)."""
    return list(db.session.scalars(
        sa.select(Ballot).where(Ballot.compound_id == compound_id,
                                Ballot.status == BallotStatus.PUBLISHED)
        .order_by(Ballot.published_at.desc())))
