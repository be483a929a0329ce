"""Ballots, options, the frozen voter roll, current votes and the hash-chained vote log."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, created_at_column, enum_column
from app.core.settings import LEGAL_NOTICE_DAYS
from app.decisions.rules import Meaning, Outcome, Rule
from app.extensions import db


class BallotKind(enum.Enum):
    WILLINGNESS = "willingness"
    MANAGEMENT_MODE = "management_mode"
    ELEVATOR = "elevator"
    FUND_USE = "fund_use"
    GENERAL = "general"


class Category(enum.Enum):
    """Civil Code art. 278 ¶1."""

    RULES_OF_PROCEDURE = "rules_of_procedure"
    MANAGEMENT_STATUTE = "management_statute"
    ELECT_COMMITTEE = "elect_committee"
    HIRE_MANAGER = "hire_manager"
    USE_FUND = "use_fund"
    RAISE_FUND = "raise_fund"
    RENOVATE = "renovate"
    CHANGE_USE = "change_use"
    OTHER = "other"


# art. 278 ¶2: these need the major (3/4) threshold; the rest are ordinary.
MAJOR_CATEGORIES = {Category.RAISE_FUND, Category.RENOVATE, Category.CHANGE_USE}


class Scope(enum.Enum):
    COMPOUND = "compound"
    BUILDING = "building"
    UNIT = "unit"


class BallotStatus(enum.Enum):
    DRAFT = "draft"
    NOTICE = "notice"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"  # the notice was withdrawn before voting opened


class Channel(enum.Enum):
    ONLINE = "online"
    PAPER = "paper"


class Ballot(db.Model):
    __tablename__ = "ballots"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    explanation: Mapped[str] = mapped_column(sa.Text, default="")
    kind: Mapped[BallotKind] = mapped_column(enum_column(BallotKind))
    category: Mapped[Category] = mapped_column(enum_column(Category))
    rule: Mapped[Rule] = mapped_column(enum_column(Rule))
    share_num: Mapped[int | None]
    share_den: Mapped[int | None]
    scope: Mapped[Scope] = mapped_column(enum_column(Scope), default=Scope.COMPOUND)
    building_id: Mapped[int | None] = mapped_column(sa.ForeignKey("buildings.id"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    notice_days: Mapped[int] = mapped_column(default=LEGAL_NOTICE_DAYS)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ask_items: Mapped[bool] = mapped_column(default=False)
    mode_start_on: Mapped[date | None]
    status: Mapped[BallotStatus] = mapped_column(
        enum_column(BallotStatus), default=BallotStatus.DRAFT
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # 物业管理条例 art. 14: the residents' committee is told when the owners are.
    committee_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result_json: Mapped[str | None] = mapped_column(sa.Text)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome, length=20))
    # SHA-256 of the frozen roll (the vote log's first link) and the log's last hash
    # recorded at close: truncating the log or editing the roll breaks verification.
    roll_digest: Mapped[str | None] = mapped_column(sa.String(64))
    head_hash: Mapped[str | None] = mapped_column(sa.String(64))
    # A notice withdrawn before voting opened: when, by whom and why (kept for the record).
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdraw_reason: Mapped[str | None] = mapped_column(sa.String(500))

    compound = relationship("Compound")
    building = relationship("Building")
    unit = relationship("Unit")
    options: Mapped[list[BallotOption]] = relationship(
        back_populates="ballot", order_by="BallotOption.position", cascade="all, delete-orphan"
    )
    extensions: Mapped[list[BallotExtension]] = relationship(
        order_by="BallotExtension.id", cascade="all, delete-orphan"
    )

    @property
    def is_draft(self) -> bool:
        return self.status is BallotStatus.DRAFT

    @property
    def in_notice(self) -> bool:
        """The notice is out and voting has not been opened."""
        return self.status is BallotStatus.NOTICE

    @property
    def in_voting(self) -> bool:
        """Voting has been opened and not yet closed (its closing time may have passed)."""
        return self.status is BallotStatus.OPEN

    @property
    def is_withdrawn(self) -> bool:
        return self.status is BallotStatus.WITHDRAWN

    def covers(self, dwelling) -> bool:
        """Whether this ballot's scope (compound, building or stairwell) takes in the home.
        The one Python twin of decisions' SQL scope test, for features holding a home."""
        if self.compound_id != dwelling.compound_id:
            return False
        if self.scope is Scope.BUILDING:
            return dwelling.unit.building_id == self.building_id
        if self.scope is Scope.UNIT:
            return dwelling.unit_id == self.unit_id
        return True

    @property
    def result(self) -> dict | None:
        """The tally recorded at close (JSON), or None while voting is not closed."""
        import json

        return json.loads(self.result_json) if self.result_json else None


class BallotOption(db.Model):
    __tablename__ = "ballot_options"
    __table_args__ = (sa.UniqueConstraint("ballot_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(sa.ForeignKey("ballots.id"), index=True)
    position: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(100))
    meaning: Mapped[Meaning] = mapped_column(enum_column(Meaning))
    # For management-mode ballots: the ManagementMode value this option stands for.
    mode: Mapped[str | None] = mapped_column(sa.String(32))

    ballot: Mapped[Ballot] = relationship(back_populates="options")


class BallotExtension(db.Model):
    """An announced extension of an open ballot's close (turnout too short); never shorter."""

    __tablename__ = "ballot_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(sa.ForeignKey("ballots.id"), index=True)
    previous_closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(sa.String(500))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class RollEntry(db.Model):
    """The voter roll, frozen when the ballot opens: one row per dwelling in scope."""

    __tablename__ = "ballot_roll"
    __table_args__ = (
        sa.UniqueConstraint("ballot_id", "dwelling_id"),
        sa.Index("ix_ballot_roll_ballot_voter", "ballot_id", "voter_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(sa.ForeignKey("ballots.id"))
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    voter_key: Mapped[int]
    area_cm2: Mapped[int] = mapped_column(sa.BigInteger)
    building: Mapped[str] = mapped_column(sa.String(20))
    unit: Mapped[str] = mapped_column(sa.String(20))
    room: Mapped[str] = mapped_column(sa.String(20))
    sort_key: Mapped[str] = mapped_column(sa.String(130), default="")

    dwelling = relationship("Dwelling")


class RollOwner(db.Model):
    """Who may cast each voter's vote, frozen with the roll when voting opens."""

    __tablename__ = "ballot_roll_owners"
    __table_args__ = (
        sa.UniqueConstraint("ballot_id", "voter_key", "person_id"),
        sa.Index("ix_ballot_roll_owners_ballot_person", "ballot_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(sa.ForeignKey("ballots.id"))
    voter_key: Mapped[int]
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id"))


class Vote(db.Model):
    """The current vote of one voter (a voter may change it until close; last counts)."""

    __tablename__ = "votes"
    __table_args__ = (sa.UniqueConstraint("ballot_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(sa.ForeignKey("ballots.id"), index=True)
    voter_key: Mapped[int]
    option_id: Mapped[int] = mapped_column(sa.ForeignKey("ballot_options.id"))
    items: Mapped[str] = mapped_column(sa.String(200), default="")
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    proxy_name: Mapped[str | None] = mapped_column(sa.String(100))
    receipt: Mapped[str] = mapped_column(sa.String(16))
    changes: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    option: Mapped[BallotOption] = relationship()


class VoteEvent(db.Model):
    """Append-only log; each entry carries the hash of the previous one (per ballot)."""

    __tablename__ = "vote_events"
    __table_args__ = (sa.UniqueConstraint("ballot_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(sa.ForeignKey("ballots.id"), index=True)
    seq: Mapped[int]
    voter_key: Mapped[int]
    option_id: Mapped[int]
    receipt: Mapped[str] = mapped_column(sa.String(16), index=True)
    payload: Mapped[str] = mapped_column(sa.Text)  # canonical JSON that is hashed
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = created_at_column()
