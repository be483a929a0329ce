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
from app.core import memo
from app.core.errors import N_, NotFound
from app.core.timeutil import utcnow
from app.decisions.models import (
    Ballot,
    BallotStatus,
    RollEntry,
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
    if (
        ballot is None
        or not user.is_authenticated
        or not user.can(ballot.compound_id, Capability.RUN_VOTES)
    ):
        raise NotFound()
    return ballot


def compound_ballots(compound: Compound) -> list[Ballot]:
    return list(
        db.session.scalars(
            sa.select(Ballot).where(Ballot.compound_id == compound.id).order_by(Ballot.id.desc())
        )
    )


def _my_homes(user_id: int):
    """The user's homes on the roster (as owner or tenant), with where they are."""
    return (
        sa.select(
            Dwelling.id.label("dwelling_id"),
            Dwelling.compound_id,
            Dwelling.unit_id,
            Unit.building_id,
            Occupancy.relation,
        )
        .join(Occupancy, Occupancy.dwelling_id == Dwelling.id)
        .join(Person, Person.id == Occupancy.person_id)
        .join(Unit, Unit.id == Dwelling.unit_id)
        .where(Person.user_id == user_id)
        .subquery()
    )


def _covers_one_of(homes, *, owner: bool = False):
    """SQL: the ballot's scope covers one of these homes (one the user owns, if owner)."""
    covers = sa.and_(
        homes.c.compound_id == Ballot.compound_id,
        sa.or_(
            Ballot.scope == Scope.COMPOUND,
            sa.and_(Ballot.scope == Scope.BUILDING, Ballot.building_id == homes.c.building_id),
            sa.and_(Ballot.scope == Scope.UNIT, Ballot.unit_id == homes.c.unit_id),
        ),
    )
    if owner:
        covers = sa.and_(covers, homes.c.relation == Relation.OWNER)
    return sa.select(homes.c.dwelling_id).where(covers).exists()


def _unvoted_seat(user_id: int):
    """SQL: the user has a voter seat on the ballot's roll without a vote yet."""
    mine = sa.select(Person.id).where(Person.user_id == user_id)
    voted = (
        sa.select(Vote.id)
        .where(Vote.ballot_id == RollOwner.ballot_id, Vote.voter_key == RollOwner.voter_key)
        .exists()
    )
    return (
        sa.select(RollOwner.id)
        .where(RollOwner.ballot_id == Ballot.id, RollOwner.person_id.in_(mine), ~voted)
        .exists()
    )


@dataclass(frozen=True)
class ResidentBallot:
    """A ballot that concerns a resident, and what it is to them."""

    ballot: Ballot
    covers: bool  # it covers one of the user's homes, so they may read it
    as_owner: bool  # the user owns a home it covers
    unvoted_seat: bool  # the user has a voter seat on its roll without a vote yet


def resident_ballots(user: User) -> list[ResidentBallot]:
    """Every ballot past its draft that covers one of the user's homes or gives them a
    seat, latest closing first, with what it is to the user. One query, remembered for
    the request; the resident's lists below are read from it."""
    if not user.is_authenticated:
        return []
    return memo.remembered(("resident_ballots", user.id), lambda: _load_resident_ballots(user.id))


def _load_resident_ballots(user_id: int) -> list[ResidentBallot]:
    homes = _my_homes(user_id)
    covers, unvoted_seat = _covers_one_of(homes), _unvoted_seat(user_id)
    rows = db.session.execute(
        sa.select(
            Ballot,
            covers.label("covers"),
            _covers_one_of(homes, owner=True).label("as_owner"),
            unvoted_seat.label("unvoted_seat"),
        )
        .where(Ballot.status != BallotStatus.DRAFT, sa.or_(covers, unvoted_seat))
        .order_by(Ballot.closes_at.desc(), Ballot.id.desc())
    )
    return [ResidentBallot(ballot, bool(c), bool(o), bool(s)) for ballot, c, o, s in rows]


def ballots_for_resident(user: User) -> list[Ballot]:
    """Published-for-notice and later ballots whose scope covers one of the user's homes,
    latest closing first."""
    return [r.ballot for r in resident_ballots(user) if r.covers]


def get_ballot_for_resident(ballot_id: int, user: User) -> Ballot:
    """A ballot the user may read (it covers one of their homes and is not a draft)."""
    if not user.is_authenticated:
        raise NotFound()
    ballot = db.session.scalar(
        sa.select(Ballot).where(
            Ballot.id == ballot_id,
            Ballot.status != BallotStatus.DRAFT,
            _covers_one_of(_my_homes(user.id)),
        )
    )
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
    soonest opening first."""
    notices = [
        r for r in resident_ballots(user) if r.covers and r.ballot.status == BallotStatus.NOTICE
    ]
    notices.sort(key=lambda r: (r.ballot.opens_at, r.ballot.id))
    return [NoticeBallot(r.ballot, r.ballot.opens_at, r.as_owner) for r in notices]


def pending_ballots(user: User, now: datetime | None = None) -> list[Ballot]:
    """Open ballots where this owner has a voter seat without a vote yet, closing soonest
    first."""
    now = now or utcnow()
    pending = [
        r.ballot
        for r in resident_ballots(user)
        if r.unvoted_seat
        and r.ballot.status == BallotStatus.OPEN
        and r.ballot.opens_at <= now < r.ballot.closes_at
    ]
    pending.sort(key=lambda b: (b.closes_at, b.id))
    return pending


def published_ballots(compound_id: int) -> list[Ballot]:
    """Ballots with a published result, newest first (shown on the compound page)."""
    return list(
        db.session.scalars(
            sa.select(Ballot)
            .where(Ballot.compound_id == compound_id, Ballot.status == BallotStatus.PUBLISHED)
            .order_by(Ballot.published_at.desc())
        )
    )


# --- who hears of a ballot (notifications and reminders read these) ---------------------------


def _scope_homes(ballot: Ballot):
    """The ids of the homes in the ballot's scope today, as a subquery."""
    homes = sa.select(Dwelling.id).where(Dwelling.compound_id == ballot.compound_id)
    if ballot.scope is Scope.BUILDING:
        homes = homes.join(Unit, Unit.id == Dwelling.unit_id).where(
            Unit.building_id == ballot.building_id
        )
    elif ballot.scope is Scope.UNIT:
        homes = homes.where(Dwelling.unit_id == ballot.unit_id)
    return homes


def owner_accounts(ballot: Ballot) -> list[int]:
    """The accounts of the ballot's owners, in one query: the frozen roll once voting has
    opened, the owners in its scope on the roster before."""
    if ballot.opened_at is None:
        stmt = (
            sa.select(Person.user_id)
            .join(Occupancy, Occupancy.person_id == Person.id)
            .where(
                Occupancy.dwelling_id.in_(_scope_homes(ballot)),
                Occupancy.relation == Relation.OWNER,
                Person.user_id.is_not(None),
            )
        )
    else:
        stmt = (
            sa.select(Person.user_id)
            .join(RollOwner, RollOwner.person_id == Person.id)
            .where(RollOwner.ballot_id == ballot.id, Person.user_id.is_not(None))
        )
    return sorted(set(db.session.scalars(stmt.distinct())))


@dataclass(frozen=True)
class NonVoter:
    """An owner of a voter seat (a home, or the homes of one owner group) with no vote yet."""

    voter_key: int
    person_id: int
    name: str
    phone: str | None
    user_id: int | None
    building: str
    unit: str
    room: str
    sort_key: str


def non_voters(ballot: Ballot) -> list[NonVoter]:
    """The owners on the frozen roll whose seat has not voted, one row per owner and home,
    in door order (building, stairwell, room); one query."""
    voted = sa.select(Vote.voter_key).where(Vote.ballot_id == ballot.id)
    rows = db.session.execute(
        sa.select(
            RollOwner.voter_key,
            Person.id,
            Person.name,
            Person.phone,
            Person.user_id,
            RollEntry.building,
            RollEntry.unit,
            RollEntry.room,
            RollEntry.sort_key,
        )
        .join(Person, Person.id == RollOwner.person_id)
        .join(
            RollEntry,
            sa.and_(
                RollEntry.ballot_id == RollOwner.ballot_id,
                RollEntry.voter_key == RollOwner.voter_key,
            ),
        )
        .where(RollOwner.ballot_id == ballot.id, RollOwner.voter_key.not_in(voted))
        .order_by(RollEntry.sort_key, Person.id)
    )
    return [NonVoter(*row) for row in rows]


@dataclass(frozen=True)
class Turnout:
    voted: int  # voter seats that have voted
    seats: int  # voter seats on the roll

    @property
    def percent(self) -> int:
        return (100 * self.voted // self.seats) if self.seats else 0


def turnout(ballot: Ballot) -> Turnout:
    """How many voter seats have voted, of those on the frozen roll (one query)."""
    seats = (
        sa.select(sa.func.count(sa.distinct(RollEntry.voter_key)))
        .where(RollEntry.ballot_id == ballot.id)
        .scalar_subquery()
    )
    voted = sa.select(sa.func.count(Vote.id)).where(Vote.ballot_id == ballot.id).scalar_subquery()
    row = db.session.execute(sa.select(voted, seats)).one()
    return Turnout(row[0] or 0, row[1] or 0)


def ballots_closing_between(start: datetime, end: datetime) -> list[Ballot]:
    """Open ballots whose close falls in [start, end) (the 48-hour reminder)."""
    return list(
        db.session.scalars(
            sa.select(Ballot).where(
                Ballot.status == BallotStatus.OPEN,
                Ballot.closes_at >= start,
                Ballot.closes_at < end,
            )
        )
    )
