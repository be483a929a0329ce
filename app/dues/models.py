"""Renovation cost items, who bears them, and each dwelling's share (with history)."""

from __future__ import annotations

import enum
from datetime import datetime

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
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    shares: Mapped[list[CostShare]] = relationship(cascade="all, delete-orphan",
                                                   order_by="CostShare.id")


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
