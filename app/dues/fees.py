"""The property fee: its rate over time, when billing starts (never before the handover),
and what a home owes for the months served."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from app.community.models import Compound, Dwelling
from app.core.errors import N_
from app.core.money import MoneyError, parse_decimal
from app.core.timeutil import local_today, utcnow
from app.dues import rules
from app.dues.errors import FieldError
from app.dues.models import (
    DuesSettings,
    FeeRate,
)
from app.extensions import db

DEFAULT_FEE_RATE_FEN = Decimal("30")  # ¥0.30 per m² per month


FEE = "fee"  # the property fee's line key; renovation items use their id


def settings_of(compound_id: int) -> DuesSettings:
    row = db.session.get(DuesSettings, compound_id)
    return row or DuesSettings(
        compound_id=compound_id, fee_rate_fen=DEFAULT_FEE_RATE_FEN, fee_starts_on=None
    )


def rates_of(compound_id: int) -> list[tuple[date, Decimal]]:
    """The property-fee rates and the days they take effect, oldest first."""
    return [
        (r.effective_from, Decimal(r.rate_fen))
        for r in db.session.scalars(
            sa.select(FeeRate)
            .where(FeeRate.compound_id == compound_id)
            .order_by(FeeRate.effective_from)
        )
    ]


def current_rate(compound_id: int, today: date | None = None) -> Decimal:
    """The property-fee rate in effect today (fen per m² per month)."""
    rates = rates_of(compound_id)
    if rates:
        return rules.rate_on(today or local_today(), rates)
    settings = settings_of(compound_id)
    return Decimal(
        settings.fee_rate_fen if settings.fee_rate_fen is not None else DEFAULT_FEE_RATE_FEN
    )


def parse_fee_rate(text: str) -> Decimal:
    """A property-fee rate typed in yuan per m² per month ("0.30"), at most 4 decimals."""
    try:
        return parse_decimal(text, places=4, maximum=Decimal(100))
    except MoneyError as exc:
        raise FieldError("rate", N_("Write the rate in yuan per m² per month, e.g. 0.30.")) from exc


def set_property_fee(
    compound: Compound,
    *,
    rate_yuan: str,
    starts_on: date | None,
    effective_from: date | None = None,
    today: date | None = None,
) -> None:
    """Rate per m² per month in yuan (e.g. 0.30) and the date billing starts.

    A changed rate takes effect from effective_from (default today): months that began
    before it keep the rate they were served at, so what a home owes for the past never
    changes. The first rate covers the whole time from the start date.
    """
    rate = parse_fee_rate(rate_yuan)
    today = today or local_today()
    if starts_on is not None:
        low, high = rules.fee_start_range(
            rules.handed_over_on(compound.accepted_on, compound.management_start_on)
        )
        if not low <= starts_on <= high:
            raise FieldError(
                "starts_on",
                N_("Choose a date from %(low)s to %(high)s."),
                low=low.isoformat(),
                high=high.isoformat(),
            )
    if effective_from is not None and effective_from > rules.FEE_LATEST:
        raise FieldError("effective_from", N_("Choose a date from the year 2000 to 2100."))
    row = db.session.get(DuesSettings, compound.id)
    if row is None:
        row = DuesSettings(compound_id=compound.id)
        db.session.add(row)
    rate_fen = rate * 100
    rates = rates_of(compound.id)
    if not rates:
        db.session.add(
            FeeRate(compound_id=compound.id, rate_fen=rate_fen, effective_from=starts_on or today)
        )
    else:
        effective = effective_from or today
        if effective < today:
            raise FieldError(
                "effective_from",
                N_(
                    "A new rate applies from today or a later "
                    "day: months already served keep the rate "
                    "they were billed at."
                ),
            )
        if rules.rate_on(effective, rates) != rate_fen:
            existing = db.session.scalar(
                sa.select(FeeRate).where(
                    FeeRate.compound_id == compound.id, FeeRate.effective_from == effective
                )
            )
            if existing is not None:
                existing.rate_fen = rate_fen
            else:
                db.session.add(
                    FeeRate(compound_id=compound.id, rate_fen=rate_fen, effective_from=effective)
                )
    db.session.flush()
    row.fee_rate_fen = rules.rate_on(today, rates_of(compound.id))  # the rate in effect now
    row.fee_starts_on = starts_on
    row.updated_at = utcnow()
    db.session.commit()


@dataclass(frozen=True)
class FeeTerms:
    rate_fen: Decimal  # per m² per month, the rate in effect today
    starts_on: date | None
    months: int
    monthly_fen: int  # at today's rate
    periods: tuple[tuple[Decimal, int], ...] = ()
    owed_fen: int = 0

    @property
    def rate_yuan(self) -> str:
        return fee_rate_text(self.rate_fen)

    @property
    def one_rate(self) -> bool:
        return len(self.periods) <= 1


def fee_rate_text(rate_fen: Decimal) -> str:
    """30 fen -> "0.30"; a finer rate keeps its digits (0.3250)."""
    yuan = Decimal(rate_fen) / 100
    two = yuan.quantize(Decimal("0.01"))
    return str(two) if two == yuan else f"{yuan.normalize():f}"


def fee_terms(
    dwelling: Dwelling,
    settings: DuesSettings,
    today: date,
    rates: list[tuple[date, Decimal]] | None = None,
) -> FeeTerms:
    rates = rates_of(dwelling.compound_id) if rates is None else rates
    rate = (
        rules.rate_on(today, rates)
        if rates
        else Decimal(
            settings.fee_rate_fen if settings.fee_rate_fen is not None else DEFAULT_FEE_RATE_FEN
        )
    )
    start = settings.fee_starts_on
    periods = tuple(rules.fee_periods(start, today, rates)) if start else ()
    return FeeTerms(
        rate,
        start,
        sum(m for _, m in periods),
        rules.monthly_fee(rate, dwelling.area_m2),
        periods,
        rules.fee_owed(list(periods), dwelling.area_m2),
    )
