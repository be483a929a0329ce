"""The overview's rows: each compound's stage, size, decisions, money, repairs and meals,
with the warnings a street office acts on. One page of compounds is read with a fixed
number of statements, each feature's figures through that feature's own function."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext

from app.bookings.programme import meals_served_by_compound
from app.community import places
from app.community.models import Compound, ManagementMode, Stage
from app.community.places import CompoundFilter, Oversight
from app.core.errors import N_
from app.core.timeutil import LOCAL_TZ, as_utc, utcnow
from app.decisions.programme import Willingness, willingness_by_compound
from app.dues.programme import Money, investment_total, money_by_compound
from app.repairs.programme import Repairs, repairs_by_compound

PER_PAGE = 50
WARNINGS = {
    "fund_low": N_("Maintenance fund below 30%% of the deposit in %(homes)s homes"),
    "publish_overdue": N_("Vote result not published in time"),
    "repairs_overdue": N_("%(tickets)s repairs overdue"),
}


@dataclass
class Warning:
    code: str
    params: dict

    @property
    def text(self) -> str:
        return gettext(WARNINGS[self.code], **self.params)


@dataclass
class Row:
    compound: Compound
    buildings: int
    homes: int
    area_m2: object
    willingness: Willingness | None
    money: Money
    repairs: Repairs
    meals_served: int
    warnings: list[Warning] = field(default_factory=list)

    @property
    def mode(self) -> ManagementMode:
        return self.compound.management_mode

    @property
    def fallback(self) -> bool:
        return self.compound.management_mode is ManagementMode.STATE_FALLBACK


@dataclass
class Overview:
    rows: list[Row]
    total: int  # compounds matching the filter (every page)
    page: int
    pages: int
    totals: places.Totals
    investment_fen: int
    stages: dict[Stage, int]
    month: tuple[int, int]


def month_of(now: datetime) -> tuple[int, int]:
    local = as_utc(now).astimezone(LOCAL_TZ)
    return local.year, local.month


def rows_for(sizes: list[places.CompoundSize], now: datetime) -> list[Row]:
    ids = [size.compound.id for size in sizes]
    year, month = month_of(now)
    willingness = willingness_by_compound(ids, now)
    money = money_by_compound(ids, as_utc(now).astimezone(LOCAL_TZ).date())
    repairs = repairs_by_compound(ids, now)
    meals = meals_served_by_compound(ids, year, month)
    rows = []
    for size in sizes:
        cid = size.compound.id
        row = Row(
            size.compound,
            size.buildings,
            size.homes,
            size.area_m2,
            willingness.get(cid),
            money[cid],
            repairs[cid],
            meals[cid],
        )
        if row.money.homes_fund_low:
            row.warnings.append(Warning("fund_low", {"homes": row.money.homes_fund_low}))
        if row.willingness and row.willingness.publish_overdue:
            row.warnings.append(Warning("publish_overdue", {}))
        if row.repairs.overdue:
            row.warnings.append(Warning("repairs_overdue", {"tickets": row.repairs.overdue}))
        rows.append(row)
    return rows


def overview(
    oversight: Oversight,
    wanted: CompoundFilter,
    page: int = 1,
    per_page: int = PER_PAGE,
    now: datetime | None = None,
) -> Overview:
    now = now or utcnow()
    ids = places.overseen_compounds(oversight, wanted)
    sizes, total = places.compounds_page(ids, page, per_page)
    return Overview(
        rows=rows_for(sizes, now),
        total=total,
        page=page,
        pages=max((total + per_page - 1) // per_page, 1),
        totals=places.totals(ids),
        investment_fen=investment_total(ids),
        stages=places.stage_counts(ids),
        month=month_of(now),
    )


def all_rows(oversight: Oversight, wanted: CompoundFilter, now: datetime | None = None):
    """Every matching compound's row, a page of compounds at a time (for the report)."""
    now = now or utcnow()
    ids = places.overseen_compounds(oversight, wanted)
    page = 1
    while True:
        sizes, total = places.compounds_page(ids, page, 200)
        yield from rows_for(sizes, now)
        if page * 200 >= total:
            return
        page += 1
