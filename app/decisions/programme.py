"""What the programme's overview reads of owner decisions, for many compounds at once:
each compound's latest renovation-willingness vote (turnout, outcome) and results not
published in time. Set-based: a fixed number of statements however many compounds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.community.models import Compound
from app.core.settings import Place, policies_for
from app.core.timeutil import as_utc, utcnow
from app.decisions.models import Ballot, BallotKind, BallotStatus, RollEntry, Vote
from app.decisions.rules import Outcome
from app.extensions import db

SHOWN = (BallotStatus.NOTICE, BallotStatus.OPEN, BallotStatus.CLOSED, BallotStatus.PUBLISHED)


@dataclass
class Willingness:
    """A compound's latest renovation-willingness vote, as the overview shows it."""

    ballot_id: int
    status: BallotStatus
    total_voters: int = 0
    voted_voters: int = 0
    total_area: int = 0  # centi-m²
    voted_area: int = 0
    outcome: Outcome | None = None  # once closed
    publish_overdue: bool = False  # closed, and not published within the policy's days

    @property
    def turnout(self) -> float:
        """Share of voters (headcount) who voted, 0..1 (for display)."""
        return self.voted_voters / self.total_voters if self.total_voters else 0.0


def willingness_by_compound(
    compound_ids: list[int], now: datetime | None = None
) -> dict[int, Willingness]:
    """Each compound's latest willingness vote past its draft: counts recorded at close,
    live before (the same figures as the committee's dashboard)."""
    now = now or utcnow()
    if not compound_ids:
        return {}
    latest = (
        sa.select(sa.func.max(Ballot.id))
        .where(
            Ballot.compound_id.in_(compound_ids),
            Ballot.kind == BallotKind.WILLINGNESS,
            Ballot.status.in_(SHOWN),
        )
        .group_by(Ballot.compound_id)
    )
    rows = db.session.execute(
        sa.select(
            Ballot.id,
            Ballot.compound_id,
            Ballot.status,
            Ballot.result_json,
            Ballot.outcome,
            Ballot.closed_at,
            Ballot.published_at,
            Compound.district,
            Compound.street_office,
        )
        .join(Compound, Compound.id == Ballot.compound_id)
        .where(Ballot.id.in_(latest))
    ).all()
    live = [r.id for r in rows if not r.result_json]
    counts = _live_counts(live)
    places = {r.id: Place(r.compound_id, r.district or "", r.street_office or "") for r in rows}
    policies = policies_for(set(places.values())) if rows else {}
    found = {}
    for row in rows:
        figure = Willingness(row.id, row.status, outcome=row.outcome)
        if row.result_json:
            result = json.loads(row.result_json)
            figure.total_voters = result["total_voters"]
            figure.voted_voters = result["voted_voters"]
            figure.total_area = _centi(result["total_area"])
            figure.voted_area = _centi(result["voted_area"])
        else:
            (
                figure.total_voters,
                figure.voted_voters,
                figure.total_area,
                figure.voted_area,
            ) = counts.get(row.id, (0, 0, 0, 0))
        if row.status is BallotStatus.CLOSED and row.closed_at and not row.published_at:
            days = policies[places[row.id]].publish_within_days
            figure.publish_overdue = as_utc(row.closed_at) + timedelta(days=days) < now
        found[row.compound_id] = figure
    return found


def _centi(m2_text: str) -> int:
    from decimal import Decimal

    return int(Decimal(m2_text) * 100)


def _live_counts(ballot_ids: list[int]) -> dict[int, tuple[int, int, int, int]]:
    """(voters, voted voters, area, voted area) per ballot, from the roll and the votes."""
    if not ballot_ids:
        return {}
    voted = sa.exists().where(
        Vote.ballot_id == RollEntry.ballot_id, Vote.voter_key == RollEntry.voter_key
    )
    return {
        ballot_id: (int(voters), int(voted_voters or 0), int(area or 0), int(voted_area or 0))
        for ballot_id, voters, voted_voters, area, voted_area in db.session.execute(
            sa.select(
                RollEntry.ballot_id,
                sa.func.count(sa.distinct(RollEntry.voter_key)),
                sa.func.count(sa.distinct(sa.case((voted, RollEntry.voter_key)))),
                sa.func.sum(RollEntry.area_cm2),
                sa.func.sum(sa.case((voted, RollEntry.area_cm2), else_=0)),
            )
            .where(RollEntry.ballot_id.in_(ballot_ids))
            .group_by(RollEntry.ballot_id)
        )
    }
