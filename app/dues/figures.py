"""A compound's dues figures for staff: how the cost is split between bearers, and arrears by building."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.community.models import Building, Compound, Dwelling, Unit
from app.core.timeutil import local_today
from app.dues import rules
from app.dues.bills import OPEN
from app.dues.fees import FEE, rates_of, settings_of
from app.dues.models import (
    Allocation,
    AllocationRule,
    Bearer,
    CostItem,
    Payment,
    PaymentStatus,
)
from app.extensions import db


@dataclass
class CostSplit:
    items: list[CostItem]
    by_bearer: dict[Bearer, int]
    subsidy_fen: int  # subsidies to residents, as they lower the residents' part
    total_fen: int

    @property
    def residents_after_subsidy_fen(self) -> int:
        """What the homes bear after the subsidies (what is shared out to them)."""
        return self.by_bearer[Bearer.RESIDENTS] - self.subsidy_fen

    @property
    def elevators(self) -> list[CostItem]:
        return [item for item in self.items if item.rule is AllocationRule.ELEVATOR]


def cost_split(compound: Compound) -> CostSplit:
    """The whole renovation's cost and who bears it (residents' part before subsidies)."""
    items = list(
        db.session.scalars(
            sa.select(CostItem)
            .where(CostItem.compound_id == compound.id)
            .options(selectinload(CostItem.shares))
            .order_by(CostItem.id)
        )
    )
    by_bearer = dict.fromkeys(Bearer, 0)
    for item in items:
        for share in item.shares:
            by_bearer[share.bearer] += share.fen
    subsidy = sum(i.subsidy_applied_fen for i in items)
    return CostSplit(items, by_bearer, subsidy, sum(i.total_fen for i in items))


@dataclass
class ArrearsRow:
    building: str
    homes: int = 0
    homes_in_arrears: int = 0
    share_fen: int = 0
    paid_fen: int = 0
    outstanding_fen: int = 0  # owed less confirmed payments
    pending_fen: int = 0  # recorded by residents, awaiting confirmation
    to_pay_fen: int = 0  # outstanding less what awaits confirmation

    @property
    def awaiting_fen(self) -> int:
        return self.pending_fen


def arrears_by_building(compound: Compound, today: date | None = None) -> list[ArrearsRow]:
    """Per building: what is owed (items and property fee), paid, still outstanding."""
    today = today or local_today()
    homes = list(
        db.session.execute(
            sa.select(Dwelling.id, Dwelling.area_m2, Building.name, Building.sort_key)
            .join(Unit, Unit.id == Dwelling.unit_id)
            .join(Building)
            .where(Dwelling.compound_id == compound.id)
        ).all()
    )
    owed: dict[tuple, int] = defaultdict(int)
    for dwelling_id, item_id, fen in db.session.execute(
        sa.select(Allocation.dwelling_id, Allocation.item_id, Allocation.fen)
        .join(
            CostItem,
            sa.and_(CostItem.id == Allocation.item_id, CostItem.version == Allocation.version),
        )
        .where(CostItem.compound_id == compound.id, Allocation.fen > 0)
    ):
        owed[(dwelling_id, item_id)] += fen
    settings = settings_of(compound.id)
    if settings.fee_starts_on:
        periods = rules.fee_periods(settings.fee_starts_on, today, rates_of(compound.id))
        for dwelling_id, area, _, _ in homes:
            owed[(dwelling_id, FEE)] = rules.fee_owed(periods, area)
    paid: dict[tuple, int] = defaultdict(int)
    pending: dict[tuple, int] = defaultdict(int)
    for dwelling_id, item_id, status, fen in db.session.execute(
        sa.select(
            Payment.dwelling_id, Payment.item_id, Payment.status, sa.func.sum(Payment.amount_fen)
        )
        .where(Payment.compound_id == compound.id, Payment.status.in_(OPEN))
        .group_by(Payment.dwelling_id, Payment.item_id, Payment.status)
    ):
        if status is PaymentStatus.CONFIRMED:
            paid[(dwelling_id, item_id or FEE)] += int(fen)
        else:
            pending[(dwelling_id, item_id or FEE)] += int(fen)
    rows: dict[str, ArrearsRow] = {}
    order: dict[str, str] = {}
    per_home_left: dict[int, int] = defaultdict(int)
    per_home_owed: dict[int, int] = defaultdict(int)
    per_home_to_pay: dict[int, int] = defaultdict(int)
    per_home_pending: dict[int, int] = defaultdict(int)
    for (dwelling_id, _key), fen in pending.items():
        per_home_pending[dwelling_id] += fen
    for (dwelling_id, key), fen in owed.items():
        per_home_owed[dwelling_id] += fen
        per_home_left[dwelling_id] += max(fen - paid[(dwelling_id, key)], 0)
        per_home_to_pay[dwelling_id] += max(
            fen - paid[(dwelling_id, key)] - pending[(dwelling_id, key)], 0
        )
    for dwelling_id, _, building, sort_key in homes:
        row = rows.setdefault(building, ArrearsRow(building))
        order[building] = sort_key
        row.homes += 1
        row.share_fen += per_home_owed[dwelling_id]
        row.outstanding_fen += per_home_left[dwelling_id]
        row.homes_in_arrears += per_home_left[dwelling_id] > 0
        row.pending_fen += per_home_pending[dwelling_id]
        row.to_pay_fen += per_home_to_pay[dwelling_id]
    home_building = {d: b for d, _, b, _ in homes}
    for (dwelling_id, _), fen in paid.items():
        rows[home_building[dwelling_id]].paid_fen += fen
    return sorted(rows.values(), key=lambda r: order[r.building])
