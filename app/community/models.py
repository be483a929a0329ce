"""Compounds, buildings, stairwell units, dwellings and the people in them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, created_at_column, enum_column
from app.core.renovation import RENOVATION_ITEMS
from app.core.timeutil import utcnow
from app.extensions import db


class Stage(enum.Enum):
    SURVEYING = "surveying"
    PLANNED = "planned"
    IN_CONSTRUCTION = "in_construction"
    ACCEPTED = "accepted"
    MANAGED = "managed"


class ManagementMode(enum.Enum):
    UNDECIDED = "undecided"
    PROPERTY_COMPANY = "property_company"
    SELF_GOVERNANCE = "self_governance"
    STATE_FALLBACK = "state_fallback"


class OwnerType(enum.Enum):
    PERSON = "person"
    INSTITUTION = "institution"
    DEVELOPER = "developer"


class Relation(enum.Enum):
    OWNER = "owner"
    TENANT = "tenant"


class District(db.Model):
    """A district (区) of the city: it coordinates its street offices."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60), unique=True)
    created_at: Mapped[datetime] = created_at_column()

    offices: Mapped[list[StreetOffice]] = relationship(
        back_populates="district", order_by="StreetOffice.name"
    )


class StreetOffice(db.Model):
    """A street office (街道) of a district: it organises its compounds' decisions and
    runs the fallback manager."""

    __tablename__ = "street_offices"
    __table_args__ = (sa.UniqueConstraint("district_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("districts.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = created_at_column()

    district: Mapped[District] = relationship(back_populates="offices")

    @property
    def label(self) -> str:
        return f"{self.district.name} · {self.name}"


class Compound(db.Model):
    __tablename__ = "compounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    # The street office (and through it the district) it belongs to. The two names are
    # kept beside it, as written on the record, for the local policy's scopes.
    street_office_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("street_offices.id"), index=True
    )
    district: Mapped[str] = mapped_column(sa.String(60), default="")
    street_office: Mapped[str] = mapped_column(sa.String(100), default="")
    year_built: Mapped[int | None]
    stage: Mapped[Stage] = mapped_column(enum_column(Stage), default=Stage.SURVEYING)
    survey_started_on: Mapped[date | None]
    construction_started_on: Mapped[date | None]
    accepted_on: Mapped[date | None]  # joint completion acceptance = handover date
    management_mode: Mapped[ManagementMode] = mapped_column(
        enum_column(ManagementMode), default=ManagementMode.UNDECIDED
    )
    management_start_on: Mapped[date | None]
    created_at: Mapped[datetime] = created_at_column()

    buildings: Mapped[list[Building]] = relationship(
        back_populates="compound", order_by="Building.sort_key", cascade="all, delete-orphan"
    )
    office: Mapped[StreetOffice | None] = relationship()

    def __repr__(self) -> str:
        return f"<Compound {self.id} {self.name}>"


class StageChange(db.Model):
    """A compound moved to a stage on a date, by someone: its programme timeline."""

    __tablename__ = "stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    from_stage: Mapped[Stage | None] = mapped_column(enum_column(Stage))
    to_stage: Mapped[Stage] = mapped_column(enum_column(Stage))
    on: Mapped[date]
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


# The renovation's works per compound: DESIGN §7's ten items, and public-service
# facilities (canteen, classroom, elderly care) built with them.
RENOVATION_WORKS = (*RENOVATION_ITEMS, "public_services")


class WorkStatus(enum.Enum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_NEEDED = "not_needed"


class RenovationWork(db.Model):
    """One of a compound's renovation works: status, contractor, planned and actual dates,
    and the cost item (dues) that carries its cost and who bears it."""

    __tablename__ = "renovation_works"
    __table_args__ = (sa.UniqueConstraint("compound_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(30))
    status: Mapped[WorkStatus] = mapped_column(enum_column(WorkStatus), default=WorkStatus.PLANNED)
    contractor: Mapped[str] = mapped_column(sa.String(100), default="")
    planned_start: Mapped[date | None]
    planned_end: Mapped[date | None]
    actual_start: Mapped[date | None]
    actual_end: Mapped[date | None]
    cost_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cost_items.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Party(enum.Enum):
    """Who takes part in the joint completion acceptance (DESIGN §9)."""

    LEAD_DEPARTMENT = "lead_department"
    HOUSING = "housing"
    NATURAL_RESOURCES = "natural_resources"
    TELECOM = "telecom"
    STREET_OFFICE = "street_office"
    COMMUNITY = "community"
    OWNERS = "owners"
    PROPERTY_COMPANY = "property_company"
    DESIGNER = "designer"
    BUILDER = "builder"
    SUPERVISOR = "supervisor"
    UTILITIES = "utilities"


class AcceptanceRecord(db.Model):
    """The joint completion acceptance of a compound's works: when it was held, who took
    part and signed, and the signed document. Completing it makes its day the handover
    date (Compound.accepted_on) that warranties and the provident fund run from."""

    __tablename__ = "acceptance_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), unique=True)
    held_on: Mapped[date | None]
    document_name: Mapped[str | None] = mapped_column(sa.String(80))  # stored file
    document_type: Mapped[str | None] = mapped_column(sa.String(40))  # its media type
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    signatures: Mapped[list[AcceptanceSignature]] = relationship(
        order_by="AcceptanceSignature.id", cascade="all, delete-orphan"
    )


class AcceptanceSignature(db.Model):
    """One participant of the acceptance: whether it takes part, who it was, signed."""

    __tablename__ = "acceptance_signatures"
    __table_args__ = (sa.UniqueConstraint("record_id", "party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(sa.ForeignKey("acceptance_records.id"), index=True)
    party: Mapped[Party] = mapped_column(enum_column(Party))
    involved: Mapped[bool] = mapped_column(default=True)
    organisation: Mapped[str] = mapped_column(sa.String(100), default="")
    signed: Mapped[bool] = mapped_column(default=False)


class Building(db.Model):
    __tablename__ = "buildings"
    __table_args__ = (sa.UniqueConstraint("compound_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(20))
    sort_key: Mapped[str] = mapped_column(sa.String(40), default="")

    compound: Mapped[Compound] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(
        back_populates="building", order_by="Unit.sort_key", cascade="all, delete-orphan"
    )


class Unit(db.Model):
    """A stairwell unit (单元); name is "" where the building has none."""

    __tablename__ = "units"
    __table_args__ = (sa.UniqueConstraint("building_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("buildings.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(20), default="")
    sort_key: Mapped[str] = mapped_column(sa.String(40), default="")

    building: Mapped[Building] = relationship(back_populates="units")
    dwellings: Mapped[list[Dwelling]] = relationship(
        back_populates="unit", order_by="Dwelling.sort_key", cascade="all, delete-orphan"
    )


class Dwelling(db.Model):
    __tablename__ = "dwellings"
    __table_args__ = (sa.UniqueConstraint("unit_id", "room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"), index=True)
    room: Mapped[str] = mapped_column(sa.String(20))
    sort_key: Mapped[str] = mapped_column(sa.String(40), default="")
    floor: Mapped[int]
    area_m2: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit] = relationship(back_populates="dwellings")
    compound: Mapped[Compound] = relationship()
    members: Mapped[list[Occupancy]] = relationship(
        back_populates="dwelling", cascade="all, delete-orphan", order_by="Occupancy.id"
    )
    # What the notice board shows this home now: filled only by the loader of a person's
    # homes (community.services.dwellings_of), which knows the time and the audience.
    board: Mapped[list[Notice]] = relationship(
        primaryjoin="Dwelling.compound_id == foreign(Notice.compound_id)",
        viewonly=True,
        lazy="raise",
    )

    @property
    def building(self) -> Building:
        return self.unit.building

    @property
    def owners(self) -> list[Person]:
        return [m.person for m in self.members if m.relation is Relation.OWNER]

    @property
    def tenants(self) -> list[Person]:
        return [m.person for m in self.members if m.relation is Relation.TENANT]


class NoticeKind(enum.Enum):
    STAFF = "staff"  # written by committee, property or street-office staff
    BALLOT = "ballot"  # a vote's notice, posted by itself when the vote is announced
    RESULT = "result"  # a vote's published result
    ACCEPTANCE = "acceptance"  # the joint completion acceptance


class Notice(db.Model):
    """A notice on a compound's board (公告栏), for the whole compound, one building or
    one stairwell; shown until it expires or is taken down, pinned ones first."""

    __tablename__ = "notices"
    __table_args__ = (
        sa.UniqueConstraint("compound_id", "source_key"),
        sa.Index("ix_notices_board", "compound_id", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"))
    building_id: Mapped[int | None] = mapped_column(sa.ForeignKey("buildings.id"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    kind: Mapped[NoticeKind] = mapped_column(enum_column(NoticeKind), default=NoticeKind.STAFF)
    title: Mapped[str] = mapped_column(sa.String(120))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    pinned: Mapped[bool] = mapped_column(default=False)
    posted_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # An optional photo or PDF, kept outside the web root like every upload.
    attachment: Mapped[str | None] = mapped_column(sa.String(80))
    attachment_type: Mapped[str | None] = mapped_column(sa.String(10))  # pdf, jpeg, png
    # Notices posted by themselves: what they announce (one notice per source) and where
    # it is read in full.
    source_key: Mapped[str | None] = mapped_column(sa.String(60))
    link_endpoint: Mapped[str | None] = mapped_column(sa.String(80))
    link_args: Mapped[str] = mapped_column(sa.Text, default="{}")  # JSON

    building: Mapped[Building | None] = relationship()
    unit: Mapped[Unit | None] = relationship()

    @property
    def automatic(self) -> bool:
        """Posted by itself (a vote, its result, the acceptance), not written by staff."""
        return self.kind is not NoticeKind.STAFF


class Person(db.Model):
    """Someone on a compound's roster: an owner (person, institution, developer) or tenant."""

    __tablename__ = "people"
    __table_args__ = (sa.UniqueConstraint("compound_id", "owner_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    # Identity on the roster: "ref:…", "phone:…", "developer:…" or "row:…" (see roster.py).
    owner_key: Mapped[str] = mapped_column(sa.String(160))
    owner_ref: Mapped[str | None] = mapped_column(sa.String(60))
    name: Mapped[str] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(sa.String(11), index=True)
    owner_type: Mapped[OwnerType] = mapped_column(enum_column(OwnerType), default=OwnerType.PERSON)
    birth_year: Mapped[int | None]
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    contact_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()

    memberships: Mapped[list[Occupancy]] = relationship(back_populates="person")
    user = relationship("User", back_populates="people")


class Occupancy(db.Model):
    """Links a person to a dwelling as owner or tenant. Only owners vote."""

    __tablename__ = "occupancies"
    __table_args__ = (sa.UniqueConstraint("dwelling_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("people.id"), index=True)
    relation: Mapped[Relation] = mapped_column(enum_column(Relation))
    created_at: Mapped[datetime] = created_at_column()

    dwelling: Mapped[Dwelling] = relationship(back_populates="members")
    person: Mapped[Person] = relationship(back_populates="memberships")


class LetterBatch(db.Model):
    """Letters printed together; their codes can be shown again from the batch (see tokens)."""

    __tablename__ = "letter_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    nonce: Mapped[str] = mapped_column(sa.String(32))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


LIVE = "used_at IS NULL AND revoked_at IS NULL"


class ActivationCode(db.Model):
    """A single-use code: a household letter, or (person_id set) a password-reset letter.

    Only the SHA-256 of the token is stored. At most one live household letter per
    dwelling and one live reset letter per person (partial unique indexes).
    """

    __tablename__ = "activation_codes"
    __table_args__ = (
        sa.Index(
            "uq_activation_codes_live_household",
            "dwelling_id",
            unique=True,
            sqlite_where=sa.text(LIVE + " AND person_id IS NULL"),
            postgresql_where=sa.text(LIVE + " AND person_id IS NULL"),
        ),
        sa.Index(
            "uq_activation_codes_live_reset",
            "person_id",
            unique=True,
            sqlite_where=sa.text(LIVE + " AND person_id IS NOT NULL"),
            postgresql_where=sa.text(LIVE + " AND person_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"))
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("letter_batches.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = created_at_column()

    dwelling = relationship("Dwelling")
    person = relationship("Person")

    def is_live(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now
