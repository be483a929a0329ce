"""Renovation cost items, who bears them, and each dwelling's share (with history)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, created_at_column, enum_column
from app.extensions import db


class Bearer(enum.Enum):
    RESIDENTS = "residents"
    GOVERNMENT = "government"
    UTILITY = "utility"
    CITY_INVESTMENT = "city_investment"


class AllocationRule(enum.Enum):
    AREA = "area"
    PER_DWELLING = "per_dwelling"
    OPT_IN = "opt_in"
    ELEVATOR = "elevator"


class CostItem(db.Model):
    __tablename__ = "cost_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    total_fen: Mapped[int] = mapped_column(sa.BigInteger)
    subsidy_fen: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    rule: Mapped[AllocationRule] = mapped_column(enum_column(AllocationRule))
    building_id: Mapped[int | None] = mapped_column(sa.ForeignKey("buildings.id"))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    # Elevator floor coefficients, "floor:coefficient" comma separated, e.g. "1:0,2:0,3:0.7".
    coefficients: Mapped[str] = mapped_column(sa.String(400), default="")
    own_home: Mapped[bool] = mapped_column(default=False)  # provident fund may pay it
    # The maintenance fund may pay shares of this item only under a passed "use the fund"
    # decision, or in an emergency the committee approved (DESIGN §5).
    fund_ballot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ballots.id"))
    emergency_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    emergency_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    emergency_note: Mapped[str] = mapped_column(sa.String(200), default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    shares: Mapped[list[CostShare]] = relationship(
        cascade="all, delete-orphan", order_by="CostShare.id"
    )

    def bearer_fen(self, bearer: Bearer) -> int:
        return sum(share.fen for share in self.shares if share.bearer is bearer)

    @property
    def subsidy_applied_fen(self) -> int:
        """The subsidy as it lowers the residents' part (never below zero)."""
        return min(self.subsidy_fen, self.bearer_fen(Bearer.RESIDENTS))

    @property
    def residents_after_subsidy_fen(self) -> int:
        """What the homes share out: the residents' part less the subsidy."""
        return self.bearer_fen(Bearer.RESIDENTS) - self.subsidy_applied_fen

    @property
    def per_elevator(self) -> bool:
        """Shared per elevator: its subsidy is an amount per elevator, not one sum."""
        return self.rule is AllocationRule.ELEVATOR


class CostShare(db.Model):
    """How much of an item each bearer pays; the shares sum to the item's total."""

    __tablename__ = "cost_shares"
    __table_args__ = (sa.UniqueConstraint("item_id", "bearer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("cost_items.id"), index=True)
    bearer: Mapped[Bearer] = mapped_column(enum_column(Bearer))
    fen: Mapped[int] = mapped_column(sa.BigInteger)


class CostOptIn(db.Model):
    """A dwelling that ordered an opt-in item (e.g. new windows)."""

    __tablename__ = "cost_opt_ins"
    __table_args__ = (sa.UniqueConstraint("item_id", "dwelling_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("cost_items.id"), index=True)
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"))


class Allocation(db.Model):
    """A dwelling's share of an item in one version; older versions are kept as history."""

    __tablename__ = "allocations"
    __table_args__ = (sa.UniqueConstraint("item_id", "version", "dwelling_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("cost_items.id"), index=True)
    version: Mapped[int]
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    fen: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = created_at_column()


class Channel(enum.Enum):
    """How a share gets paid (DESIGN §5)."""

    DIRECT = "direct"
    PROVIDENT_FUND = "provident_fund"
    MAINTENANCE_FUND = "maintenance_fund"
    PUBLIC_INCOME = "public_income"
    HARDSHIP = "hardship"


RESIDENT_CHANNELS = (Channel.DIRECT, Channel.PROVIDENT_FUND, Channel.MAINTENANCE_FUND)


class PaymentStatus(enum.Enum):
    PENDING = "pending"  # recorded by the resident, awaiting the manager
    CONFIRMED = "confirmed"
    REJECTED = "rejected"  # by the manager, with a reason the resident sees
    WITHDRAWN = "withdrawn"  # taken back by the resident while it was pending


class DuesSettings(db.Model):
    """A compound's property fee: rate per m² per month and the date billing starts."""

    __tablename__ = "dues_settings"

    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), primary_key=True)
    fee_rate_fen: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2), default=Decimal("30"))
    fee_starts_on: Mapped[date | None]
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FeeRate(db.Model):
    """A property-fee rate and the day it takes effect: each month is billed at the rate
    in effect on the month's first day, so a change never re-prices months served."""

    __tablename__ = "fee_rates"
    __table_args__ = (sa.UniqueConstraint("compound_id", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    rate_fen: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2))  # per m² per month
    effective_from: Mapped[date]
    created_at: Mapped[datetime] = created_at_column()


class CostItemVersion(db.Model):
    """What an item was in each version (total, subsidy, bearers), kept when it changes."""

    __tablename__ = "cost_item_versions"
    __table_args__ = (sa.UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("cost_items.id"), index=True)
    version: Mapped[int]
    total_fen: Mapped[int] = mapped_column(sa.BigInteger)
    subsidy_fen: Mapped[int] = mapped_column(sa.BigInteger)
    bearers: Mapped[str] = mapped_column(sa.String(200))  # "government=250000,residents=…"
    coefficients: Mapped[str] = mapped_column(sa.String(400), default="")
    allocated_fen: Mapped[int] = mapped_column(sa.BigInteger)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class Payment(db.Model):
    """Money towards one dwelling's share of an item (item_id) or its property fee (NULL).

    Residents record direct, provident-fund and maintenance-fund payments (pending until
    a manager confirms or rejects them); public-income offsets and hardship subsidies are
    recorded by staff and count at once.
    """

    __tablename__ = "payments"
    __table_args__ = (
        sa.UniqueConstraint("dwelling_id", "token"),
        sa.Index("ix_payments_compound_status", "compound_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"))
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cost_items.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    reference: Mapped[str] = mapped_column(sa.String(100), default="")
    photo: Mapped[str | None] = mapped_column(sa.String(80))  # stored file name
    status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus), default=PaymentStatus.PENDING
    )
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    token: Mapped[str | None] = mapped_column(sa.String(40))  # one form, one payment
    income_use_id: Mapped[int | None] = mapped_column(sa.ForeignKey("income_uses.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = created_at_column()
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    item: Mapped[CostItem | None] = relationship()
    dwelling = relationship("Dwelling")

    @property
    def is_pending(self) -> bool:
        return self.status is PaymentStatus.PENDING

    @property
    def is_rejected(self) -> bool:
        return self.status is PaymentStatus.REJECTED

    @property
    def is_withdrawn(self) -> bool:
        return self.status is PaymentStatus.WITHDRAWN

    @property
    def is_open(self) -> bool:
        """Awaiting confirmation or confirmed: it stands on the statement."""
        return self.status in (PaymentStatus.PENDING, PaymentStatus.CONFIRMED)


class FundAccount(db.Model):
    """A dwelling's housing maintenance fund (住宅专项维修资金): deposit and balance."""

    __tablename__ = "fund_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"), unique=True)
    initial_fen: Mapped[int] = mapped_column(sa.BigInteger)
    balance_fen: Mapped[int] = mapped_column(sa.BigInteger)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FundMovement(db.Model):
    """Every change to a fund balance: import, refill from public income, payment."""

    __tablename__ = "fund_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))  # import, refill, payment
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)  # signed
    balance_fen: Mapped[int] = mapped_column(sa.BigInteger)  # after the movement
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"))
    income_use_id: Mapped[int | None] = mapped_column(sa.ForeignKey("income_uses.id"))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class IncomeKind(enum.Enum):
    ADS = "ads"
    PARKING = "parking"
    CHARGING = "charging"
    KIOSK = "kiosk"
    LOCKER = "locker"
    OTHER = "other"
    COST = "cost"  # what earning it cost (cleaning, power, management): taken off


class IncomeEntry(db.Model):
    """Community public income (art. 282: it belongs to the owners), or a cost against it."""

    __tablename__ = "income_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    kind: Mapped[IncomeKind] = mapped_column(enum_column(IncomeKind))
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)  # always positive
    occurred_on: Mapped[date]
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    @property
    def is_cost(self) -> bool:
        """A cost of earning the income: taken off, shown with a minus."""
        return self.kind is IncomeKind.COST


class IncomeUse(db.Model):
    """Public income put to use by the owners' decision: offsetting a renovation item's
    shares by area, or refilling the maintenance fund (item_id NULL)."""

    __tablename__ = "income_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cost_items.id"))
    amount_fen: Mapped[int] = mapped_column(sa.BigInteger)
    ballot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("ballots.id"))
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()

    item: Mapped[CostItem | None] = relationship()


class FundImportPreview(db.Model):
    """A maintenance-fund file read and checked, waiting for the manager to confirm it.

    The parsed rows are kept here (not in the cookie, not in a worker's memory) so the
    confirmation imports exactly what was previewed, on whichever worker answers, without
    the file being sent again. imported_at is set once: a second confirmation finds it set.
    """

    __tablename__ = "fund_import_previews"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(sa.String(200), default="")
    rows: Mapped[str] = mapped_column(sa.Text)  # JSON [[dwelling id, initial fen, balance fen]]
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
