"""What the programme's overview reads of dues, for many compounds at once: owed and
collected (the same totals as each compound's dues overview), the investment planned
(the cost items' totals) and homes whose maintenance fund is low. A fixed number of
statements however many compounds and homes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.community.models import Dwelling
from app.core.timeutil import local_today
from app.dues import rules
from app.dues.models import Allocation, CostItem, FundAccount, Payment, PaymentStatus
from app.dues.summary import _fee_starts_and_rates
from app.extensions import db


@dataclass
class Money:
    owed_fen: int = 0  # the residents' shares of the cost items, and the property fee due
    collected_fen: int = 0  # confirmed payments
    investment_fen: int = 0  # the cost items' totals (every bearer)
    homes_fund_low: int = 0  # homes whose maintenance fund is below 30 % of the deposit


def money_by_compound(compound_ids: list[int], today: date | None = None) -> dict[int, Money]:
    today = today or local_today()
    found = {compound_id: Money() for compound_id in compound_ids}
    if not compound_ids:
        return found
    current = sa.and_(CostItem.id == Allocation.item_id, CostItem.version == Allocation.version)
    for compound_id, fen in db.session.execute(
        sa.select(CostItem.compound_id, sa.func.sum(Allocation.fen))
        .join(CostItem, current)
        .where(CostItem.compound_id.in_(compound_ids), Allocation.fen > 0)
        .group_by(CostItem.compound_id)
    ):
        found[compound_id].owed_fen += int(fen or 0)
    starts, rates = _fee_starts_and_rates(compound_ids)
    billed = [c for c in compound_ids if starts.get(c)]
    if billed:
        periods = {c: rules.fee_periods(starts[c], today, rates[c]) for c in billed}
        # Homes of one area owe the same fee: one row per compound and area, not per home.
        for compound_id, area, homes in db.session.execute(
            sa.select(Dwelling.compound_id, Dwelling.area_m2, sa.func.count(Dwelling.id))
            .where(Dwelling.compound_id.in_(billed))
            .group_by(Dwelling.compound_id, Dwelling.area_m2)
        ):
            found[compound_id].owed_fen += homes * rules.fee_owed(periods[compound_id], area)
    for compound_id, fen in db.session.execute(
        sa.select(Payment.compound_id, sa.func.sum(Payment.amount_fen))
        .where(Payment.compound_id.in_(compound_ids), Payment.status == PaymentStatus.CONFIRMED)
        .group_by(Payment.compound_id)
    ):
        found[compound_id].collected_fen = int(fen or 0)
    for compound_id, fen in db.session.execute(
        sa.select(CostItem.compound_id, sa.func.sum(CostItem.total_fen))
        .where(CostItem.compound_id.in_(compound_ids))
        .group_by(CostItem.compound_id)
    ):
        found[compound_id].investment_fen = int(fen or 0)
    low = sa.and_(
        FundAccount.initial_fen > 0, FundAccount.balance_fen * 10 < FundAccount.initial_fen * 3
    )
    for compound_id, homes in db.session.execute(
        sa.select(FundAccount.compound_id, sa.func.count(FundAccount.id))
        .where(FundAccount.compound_id.in_(compound_ids), low)
        .group_by(FundAccount.compound_id)
    ):
        found[compound_id].homes_fund_low = homes
    return found


def investment_total(ids_query) -> int:
    """The cost items' totals over every compound matching the overview's filter."""
    return int(
        db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(CostItem.total_fen), 0)).where(
                CostItem.compound_id.in_(ids_query)
            )
        )
        or 0
    )
