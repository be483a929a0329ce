"""Counting by the Civil Code's double rule, turnout, demand for items, who has not voted,
the vote records for export, and the end-to-end check of the vote log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.community import roster as roster_rules
from app.community.models import (
    Dwelling,
    Occupancy,
)
from app.core.errors import N_
from app.core.timeutil import LOCAL_TZ
from app.decisions import rules
from app.decisions.audit import _log, chain_hash
from app.decisions.models import (
    MAJOR_CATEGORIES,
    Ballot,
    BallotExtension,
    BallotKind,
    Category,
    RollEntry,
    Vote,
    VoteEvent,
)
from app.decisions.roll import roll_digest
from app.decisions.rules import Rule
from app.extensions import db


def legal_rule(category: Category) -> Rule:
    """art. 278 ¶2: raising the fund, rebuilding/renovating and changing use are major."""
    return Rule.MAJOR if category in MAJOR_CATEGORIES else Rule.ORDINARY


def threshold_of(ballot: Ballot) -> rules.Threshold:
    share = (
        Fraction(ballot.share_num, ballot.share_den) if ballot.rule is Rule.SHARE_OF_ALL else None
    )
    return rules.Threshold(ballot.rule, share)


def local_text(moment: datetime) -> str:
    """A moment as Beijing wall-clock text with the year ("2026-12-21 09:00")."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


@dataclass
class Verification:
    ok: bool
    entries: int
    broken_seq: int | None = None
    reason: str = ""


def verify_log(ballot: Ballot) -> Verification:
    """Recompute the chain from the frozen roll; name the first broken entry.

    Also checks that the current votes are the last logged ones (every column), that the
    log ends where it ended at close, and that the recorded result is the recount.
    """
    if ballot.roll_digest is None:
        return Verification(True, 0)
    if roll_digest(ballot) != ballot.roll_digest:
        return Verification(False, 0, None, N_("the voter roll was changed after opening"))
    if not _extensions_consistent(ballot):
        return Verification(
            False, 0, None, N_("the closing time differs from its announced extensions")
        )
    prev = ballot.roll_digest
    expected_seq = 1
    latest: dict[int, dict] = {}
    count = 0
    for event in db.session.scalars(
        sa.select(VoteEvent).where(VoteEvent.ballot_id == ballot.id).order_by(VoteEvent.seq)
    ):
        count += 1
        data = json.loads(event.payload)
        if event.seq != expected_seq:
            return Verification(False, count, event.seq, N_("an entry is missing before it"))
        if event.prev_hash != prev:
            return Verification(
                False, count, event.seq, N_("it does not follow the entry before it")
            )
        if chain_hash(prev, event.payload) != event.hash:
            return Verification(False, count, event.seq, N_("its content was changed"))
        if (data["seq"], data["voter"], data["option"], data["receipt"]) != (
            event.seq,
            event.voter_key,
            event.option_id,
            event.receipt,
        ):
            return Verification(
                False, count, event.seq, N_("its columns differ from its sealed content")
            )
        latest[event.voter_key] = data
        prev = event.hash
        expected_seq += 1
    if ballot.head_hash and prev != ballot.head_hash:
        return Verification(False, count, None, N_("entries after the last one were removed"))
    votes = {
        v.voter_key: v
        for v in db.session.scalars(sa.select(Vote).where(Vote.ballot_id == ballot.id))
    }
    for key, vote in votes.items():
        data = latest.get(key)
        if data is None or (
            data["option"],
            data["receipt"],
            data["items"],
            data["channel"],
            data["actor"],
            data["proxy"],
        ) != (
            vote.option_id,
            vote.receipt,
            vote.items,
            vote.channel.value,
            vote.actor_id,
            vote.proxy_name,
        ):
            return Verification(False, count, None, N_("a current vote is not the last one logged"))
    if set(latest) != set(votes):
        return Verification(False, count, None, N_("a logged vote is missing from the votes"))
    if ballot.result_json and json.loads(ballot.result_json) != compute_tally(ballot).as_dict():
        return Verification(False, count, None, N_("the recorded result differs from a recount"))
    return Verification(True, count)


def _extensions_consistent(ballot: Ballot) -> bool:
    """Each extension starts where the last ended, moves later, and the close is the last."""
    extensions = list(
        db.session.scalars(
            sa.select(BallotExtension)
            .where(BallotExtension.ballot_id == ballot.id)
            .order_by(BallotExtension.id)
        )
    )
    if not extensions:
        return True
    for before, after in zip(extensions, extensions[1:], strict=False):
        if after.previous_closes_at != before.closes_at:
            return False
    return (
        all(e.closes_at > e.previous_closes_at for e in extensions)
        and ballot.closes_at == extensions[-1].closes_at
    )


def compute_tally(ballot: Ballot) -> rules.Tally:
    """Tally in SQL (sums over the frozen roll joined to current votes), decide in rules."""
    total_area, total_voters = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(RollEntry.area_cm2), 0),
            sa.func.count(sa.distinct(RollEntry.voter_key)),
        ).where(RollEntry.ballot_id == ballot.id)
    ).one()
    per_option = {
        row.option_id: row
        for row in db.session.execute(
            sa.select(
                Vote.option_id,
                sa.func.sum(RollEntry.area_cm2).label("area"),
                sa.func.count(sa.distinct(Vote.voter_key)).label("voters"),
            )
            .join(
                RollEntry,
                sa.and_(
                    RollEntry.ballot_id == Vote.ballot_id, RollEntry.voter_key == Vote.voter_key
                ),
            )
            .where(Vote.ballot_id == ballot.id)
            .group_by(Vote.option_id)
        )
    }
    options = [
        rules.OptionCount(
            o.id,
            o.label,
            o.meaning,
            int(per_option[o.id].area) if o.id in per_option else 0,
            per_option[o.id].voters if o.id in per_option else 0,
        )
        for o in ballot.options
    ]
    return rules.tally(threshold_of(ballot), int(total_area), total_voters, options)


@dataclass(frozen=True)
class TallyReading:
    """Which sentences explain a tally: those of its rule, or of competing options."""

    rule: Rule
    by_choice: bool  # options compete (a management-mode vote), no yes or no

    @property
    def needs_quorum(self) -> bool:
        return self.rule.needs_quorum

    @property
    def share_of_all(self) -> bool:
        return self.rule is Rule.SHARE_OF_ALL

    @property
    def major(self) -> bool:
        return self.rule is Rule.MAJOR


def reading(tally: dict, ballot: Ballot) -> TallyReading:
    """How to read a tally (as from tally_dict) of this ballot."""
    return TallyReading(Rule(tally["rule"]), ballot.kind is BallotKind.MANAGEMENT_MODE)


def tally_dict(ballot: Ballot) -> dict:
    """The tally as JSON values: the recorded one once closed, else live."""
    data = json.loads(ballot.result_json) if ballot.result_json else compute_tally(ballot).as_dict()
    return {"ballot": ballot.id, "status": ballot.status.value, **data}


@dataclass
class BuildingTurnout:
    building: str
    total_area: int
    total_voters: int
    voted_area: int
    voted_voters: int


def turnout_by_building(ballot: Ballot) -> list[BuildingTurnout]:
    """Turnout per building (a voter with homes in two buildings counts in each)."""
    voted = (sa.select(Vote.voter_key).where(Vote.ballot_id == ballot.id)).scalar_subquery()
    has_voted = RollEntry.voter_key.in_(voted)
    rows = db.session.execute(
        sa.select(
            RollEntry.building,
            sa.func.min(RollEntry.sort_key).label("order"),
            sa.func.sum(RollEntry.area_cm2),
            sa.func.count(sa.distinct(RollEntry.voter_key)),
            sa.func.coalesce(sa.func.sum(sa.case((has_voted, RollEntry.area_cm2), else_=0)), 0),
            sa.func.count(sa.distinct(sa.case((has_voted, RollEntry.voter_key)))),
        )
        .where(RollEntry.ballot_id == ballot.id)
        .group_by(RollEntry.building)
        .order_by(sa.text("2"))
    )
    return [BuildingTurnout(b, int(a), int(v), int(va), int(vv)) for b, _o, a, v, va, vv in rows]


def item_demand(ballot: Ballot) -> list[tuple[str, int]]:
    """Ranked demand for renovation items from current votes."""
    if not ballot.ask_items:
        return []
    texts = db.session.scalars(
        sa.select(Vote.items).where(Vote.ballot_id == ballot.id, Vote.items != "")
    )
    return rules.rank_items(t.split(",") for t in texts)


def missing_voters(ballot: Ballot, *, building: str = "", page: int = 1, per_page: int = 50):
    from app.community.services import clamp_page

    page = clamp_page(page)
    """Homes whose voter has not voted yet, for door-knocking (owners with masked phones)."""
    voted = sa.select(Vote.voter_key).where(Vote.ballot_id == ballot.id)
    stmt = (
        sa.select(RollEntry)
        .where(RollEntry.ballot_id == ballot.id, RollEntry.voter_key.not_in(voted))
        .options(
            selectinload(RollEntry.dwelling)
            .selectinload(Dwelling.members)
            .selectinload(Occupancy.person)
        )
        .order_by(RollEntry.sort_key)
    )
    if building:
        stmt = stmt.where(RollEntry.building == roster_rules.normalize_building(building))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def vote_records(ballot: Ballot, *, actor: User | None = None) -> list[list]:
    """Every home in the roll with its voter's current vote (for CSV/XLSX export; logged)."""
    _log(actor, ballot, "votes_exported")
    db.session.commit()
    votes = {
        v.voter_key: v
        for v in db.session.scalars(
            sa.select(Vote).where(Vote.ballot_id == ballot.id).options(selectinload(Vote.option))
        )
    }
    rows = []
    for entry in db.session.scalars(
        sa.select(RollEntry).where(RollEntry.ballot_id == ballot.id).order_by(RollEntry.sort_key)
    ):
        vote = votes.get(entry.voter_key)
        rows.append(
            [
                entry.building,
                entry.unit,
                entry.room,
                rules.m2(entry.area_cm2),
                entry.voter_key,
                vote.option.label if vote else "",
                vote.channel.value if vote else "",
                (vote.proxy_name or "") if vote else "",
                vote.updated_at.isoformat(timespec="seconds") if vote else "",
                vote.changes if vote else "",
            ]
        )
    return rows


EXPORT_HEADER = [
    "楼栋 building",
    "单元 unit",
    "房号 room",
    "专有面积 area_m2",
    "投票人 voter",
    "选项 choice",
    "方式 channel",
    "委托人 proxy",
    "时间 time (UTC)",
    "改票次数 changes",
]
