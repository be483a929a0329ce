"""Paper ballots: a spreadsheet of votes collected door to door, checked row by row."""

from __future__ import annotations

import time
import unicodedata
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from app.accounts.models import AccessLog, User
from app.community import roster as roster_rules
from app.core import events
from app.core.errors import N_, DomainError
from app.core.spreadsheet import FileRejected, Problem, read_records
from app.core.timeutil import utcnow
from app.decisions.models import (
    Ballot,
    BallotOption,
    Channel,
    RollEntry,
)
from app.decisions.voting import check_open, record_vote
from app.extensions import db

PAPER_COLUMNS = {
    "楼栋": "building",
    "building": "building",
    "单元": "unit",
    "unit": "unit",
    "房号": "room",
    "room": "room",
    "选项": "choice",
    "choice": "choice",
    "委托人": "proxy",
    "受托人": "proxy",
    "代理人": "proxy",
    "proxy": "proxy",
}


def find_voter(ballot: Ballot, building: str, unit: str, room: str) -> int | None:
    """The voter of a home in the roll, by building, unit and room as people write them."""

    def norm(text):
        return unicodedata.normalize("NFKC", text or "").strip()

    return db.session.scalar(
        sa.select(RollEntry.voter_key).where(
            RollEntry.ballot_id == ballot.id,
            RollEntry.building == roster_rules.normalize_building(norm(building)),
            RollEntry.unit == roster_rules.normalize_unit(norm(unit)),
            RollEntry.room == norm(room),
        )
    )


def option_from_text(ballot: Ballot, text: str, translate=lambda s: s) -> BallotOption | None:
    """An option by its number (1, 2, 3) or its label in either language."""
    text = (text or "").strip()
    for option in ballot.options:
        if text == str(option.position) or text.lower() in {
            option.label.lower(),
            translate(option.label).lower(),
        }:
            return option
    return None


PAPER_REQUIRED = ("building", "room", "choice")


PAPER_LABELS = {"building": "楼栋 building", "room": "房号 room", "choice": "选项 choice"}


def _roll_index(ballot: Ballot) -> dict[tuple[str, str, str], int]:
    """The frozen roll by (building, unit, room) as stored: one query for a whole file."""
    return {
        (b, u, r): key
        for b, u, r, key in db.session.execute(
            sa.select(
                RollEntry.building, RollEntry.unit, RollEntry.room, RollEntry.voter_key
            ).where(RollEntry.ballot_id == ballot.id)
        )
    }


def import_paper(
    ballot: Ballot,
    data: bytes,
    filename: str,
    *,
    actor: User,
    translate=lambda s: s,
    now: datetime | None = None,
) -> int:
    """Enter paper ballots from a CSV/XLSX; any bad row means nothing is recorded.

    The file is read by the one spreadsheet reader (size and archive checks first, the
    header row found and mapped, Chinese or English); a file without the columns is
    refused whole, naming what is missing (briefly, whatever its header holds).
    """
    now = now or utcnow()
    check_open(ballot, now)
    table = read_records(
        data, filename, PAPER_COLUMNS, required=PAPER_REQUIRED, labels=PAPER_LABELS
    )
    if not table.records:
        raise DomainError(N_("The file has no ballots below its header row."))

    def norm(text):
        return unicodedata.normalize("NFKC", text or "").strip()

    roll = _roll_index(ballot)
    problems: list[Problem] = []
    planned: list[tuple[int, int, int, str]] = []
    seen: dict[int, int] = {}
    for record in table.records:
        number, get = record.row, record.get
        voter = roll.get(
            (
                roster_rules.normalize_building(norm(get("building"))),
                roster_rules.normalize_unit(norm(get("unit"))),
                norm(get("room")),
            )
        )
        option = option_from_text(ballot, get("choice"), translate)
        if voter is None:
            problems.append(
                Problem(
                    N_("no home %(building)s-%(unit)s-%(room)s in this ballot's scope"),
                    {
                        "building": get("building")[:20],
                        "unit": get("unit")[:20] or "-",
                        "room": get("room")[:20],
                    },
                    number,
                    "room",
                )
            )
        if option is None:
            problems.append(
                Problem(
                    N_('choice "%(value)s" is not an option (use its number or label)'),
                    {"value": get("choice")[:40]},
                    number,
                    "choice",
                )
            )
        if voter is not None and voter in seen:
            problems.append(
                Problem(
                    N_("this home's voter already has a ballot on row %(first)s"),
                    {"first": seen[voter]},
                    number,
                    "room",
                )
            )
        if voter is not None and option is not None and voter not in seen:
            seen[voter] = number
            planned.append((number, voter, option.id, get("proxy")))
    if problems:
        raise FileRejected(problems)
    for attempt in range(5):
        try:
            for _number, voter, option_id, proxy in planned:
                record_vote(
                    ballot,
                    voter,
                    option_id,
                    actor=actor,
                    items=None,
                    channel=Channel.PAPER,
                    proxy_name=proxy,
                    now=now,
                )
            db.session.add(
                AccessLog(
                    user_id=actor.id if actor else None,
                    compound_id=ballot.compound_id,
                    action="paper_import",
                    target=f"ballot {ballot.id}: {len(planned)} ballots",
                )
            )
            db.session.flush()
            for _number, voter, _option_id, _proxy in planned:
                events.vote_cast.send(ballot, voter_key=voter, channel=Channel.PAPER, actor=actor)
            db.session.commit()
        except (IntegrityError, OperationalError):
            db.session.rollback()
            time.sleep(0.05 * (attempt + 1))
            continue
        return len(planned)
    raise DomainError(N_("Many votes are arriving at once. Please try again in a moment."))
