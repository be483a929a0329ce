"""Community public income (parking, advertising …) and its use: offsetting an item or
refilling the maintenance fund."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.community.models import Compound, Dwelling
from app.core.db import lock_rows
from app.core.errors import N_, NotFound
from app.core.timeutil import local_today, utcnow
from app.dues import rules
from app.dues.bills import OPEN
from app.dues.errors import FieldError
from app.dues.fees import DEFAULT_FEE_RATE_FEN
from app.dues.funds import passed_ballots
from app.dues.models import (
    Allocation,
    Channel,
    CostItem,
    DuesSettings,
    FundAccount,
    FundMovement,
    IncomeEntry,
    IncomeKind,
    IncomeUse,
    Payment,
    PaymentStatus,
)
from app.dues.shared import MAX_PAYMENT_FEN, _lock_homes, _lock_item, rules_yuan
from app.extensions import db


def _positive(amount_fen: int) -> None:
    if not isinstance(amount_fen, int) or not 0 < amount_fen <= MAX_PAYMENT_FEN:
        raise FieldError("amount", N_("The amount must be more than zero."))


def add_income(
    compound: Compound,
    actor: User,
    *,
    kind: IncomeKind,
    amount_fen: int,
    occurred_on: date,
    note: str,
    today: date | None = None,
) -> IncomeEntry:
    """Record public income (or a cost against it) on the owners' ledger. The caller
    checks the actor's role (property manager or street office)."""
    _positive(amount_fen)
    note = (note or "").strip()
    if len(note) > 200:
        raise FieldError("note", N_("The note may be at most 200 characters."))
    if occurred_on > (today or local_today()):
        raise FieldError("occurred_on", N_("The date cannot be in the future."))
    if occurred_on.year < 2000:
        raise FieldError("occurred_on", N_("Choose a date from the year 2000 to 2100."))
    entry = IncomeEntry(
        compound_id=compound.id,
        kind=kind,
        amount_fen=amount_fen,
        occurred_on=occurred_on,
        note=note,
        recorded_by_id=actor.id,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


@dataclass
class IncomeBalance:
    income_fen: int
    costs_fen: int
    used_fen: int

    @property
    def net_fen(self) -> int:
        return self.income_fen - self.costs_fen

    @property
    def available_fen(self) -> int:
        return self.net_fen - self.used_fen


def income_balance(compound_id: int) -> IncomeBalance:
    sums = {
        kind: int(fen or 0)
        for kind, fen in db.session.execute(
            sa.select(IncomeEntry.kind, sa.func.sum(IncomeEntry.amount_fen))
            .where(IncomeEntry.compound_id == compound_id)
            .group_by(IncomeEntry.kind)
        )
    }
    used = (
        db.session.scalar(
            sa.select(sa.func.sum(IncomeUse.amount_fen)).where(IncomeUse.compound_id == compound_id)
        )
        or 0
    )
    costs = sums.pop(IncomeKind.COST, 0)
    return IncomeBalance(sum(sums.values()), costs, int(used))


def income_ledger(compound: Compound) -> tuple[list[IncomeEntry], list[IncomeUse]]:
    entries = list(
        db.session.scalars(
            sa.select(IncomeEntry)
            .where(IncomeEntry.compound_id == compound.id)
            .order_by(IncomeEntry.occurred_on.desc(), IncomeEntry.id.desc())
        )
    )
    uses = list(
        db.session.scalars(
            sa.select(IncomeUse)
            .where(IncomeUse.compound_id == compound.id)
            .options(selectinload(IncomeUse.item))
            .order_by(IncomeUse.id.desc())
        )
    )
    return entries, uses


def _lock_compound_ledger(compound: Compound) -> None:
    """One use of public income at a time per compound (the settings row is the lock)."""
    if db.session.get(DuesSettings, compound.id) is None:
        db.session.add(DuesSettings(compound_id=compound.id, fee_rate_fen=DEFAULT_FEE_RATE_FEN))
        db.session.flush()
    lock_rows(DuesSettings.fee_rate_fen, DuesSettings.compound_id == compound.id)


def use_income(
    compound: Compound,
    actor: User,
    *,
    amount_fen: int,
    item_id: int | None,
    ballot_id: int | None,
    note: str,
    today: date | None = None,
) -> IncomeUse:
    """Put public income to use, as the owners decided: offset an item's shares by area
    (nobody is credited more than they still owe), or refill the maintenance fund by area."""
    _positive(amount_fen)
    note = (note or "").strip()
    if len(note) > 200:
        raise FieldError("note", N_("The note may be at most 200 characters."))
    if ballot_id not in {b.id for b in passed_ballots(compound)}:
        raise FieldError(
            "ballot",
            N_("Public income belongs to the owners: choose the passed decision that uses it."),
        )
    item = None
    if item_id is not None:
        item = db.session.get(CostItem, item_id)
        if item is None or item.compound_id != compound.id:
            raise NotFound()
    _lock_compound_ledger(compound)
    _lock_homes(compound.id)
    balance = income_balance(compound.id)
    if amount_fen > balance.available_fen:
        db.session.rollback()
        raise FieldError(
            "amount",
            N_("Only %(left)s of public income is available."),
            left=rules_yuan(max(balance.available_fen, 0)),
        )
    use = IncomeUse(
        compound_id=compound.id,
        item_id=item_id,
        amount_fen=amount_fen,
        ballot_id=ballot_id,
        note=note,
        created_by_id=actor.id,
    )
    db.session.add(use)
    db.session.flush()
    now = utcnow()
    if item is not None:
        _offset_item(item, use, actor, now)
    else:
        _refill_fund(compound, use, actor, now)
    db.session.commit()
    return use


def _offset_item(item: CostItem, use: IncomeUse, actor: User, now: datetime) -> None:
    areas = dict(
        db.session.execute(
            sa.select(Dwelling.id, Dwelling.area_m2).where(Dwelling.compound_id == item.compound_id)
        ).all()
    )
    _lock_item(item.id)
    db.session.refresh(item)  # the version as of the lock
    shares = dict(
        db.session.execute(
            sa.select(Allocation.dwelling_id, Allocation.fen).where(
                Allocation.item_id == item.id, Allocation.version == item.version
            )
        ).all()
    )
    taken: dict[int, int] = defaultdict(int)
    for dwelling_id, fen in db.session.execute(
        sa.select(Payment.dwelling_id, sa.func.sum(Payment.amount_fen))
        .where(Payment.item_id == item.id, Payment.status.in_(OPEN))
        .group_by(Payment.dwelling_id)
    ):
        taken[dwelling_id] = int(fen)
    caps = {d: max(fen - taken[d], 0) for d, fen in shares.items()}
    try:
        credit = rules.allocate_capped(use.amount_fen, {d: Decimal(areas[d]) for d in caps}, caps)
    except rules.AllocationError as exc:
        db.session.rollback()
        raise FieldError(
            "amount",
            N_("That is more than the homes still owe on this item (%(left)s)."),
            left=rules_yuan(sum(caps.values())),
        ) from exc
    db.session.execute(
        sa.insert(Payment),
        [
            {
                "compound_id": item.compound_id,
                "dwelling_id": d,
                "item_id": item.id,
                "channel": Channel.PUBLIC_INCOME,
                "amount_fen": fen,
                "reference": use.note[:100],
                "status": PaymentStatus.CONFIRMED,
                "reason": "",
                "income_use_id": use.id,
                "recorded_by_id": actor.id,
                "recorded_at": now,
                "decided_by_id": actor.id,
                "decided_at": now,
            }
            for d, fen in credit.items()
            if fen
        ],
    )


def _refill_fund(compound: Compound, use: IncomeUse, actor: User, now: datetime) -> None:
    accounts = {
        a.dwelling_id: a
        for a in db.session.scalars(
            sa.select(FundAccount)
            .where(FundAccount.compound_id == compound.id)
            .execution_options(populate_existing=True)
        )
    }
    if not accounts:
        db.session.rollback()
        raise FieldError("target", N_("Import the maintenance fund balances first."))
    areas = dict(
        db.session.execute(
            sa.select(Dwelling.id, Dwelling.area_m2).where(Dwelling.id.in_(accounts))
        ).all()
    )
    credit = rules.by_area(use.amount_fen, areas)
    for dwelling_id, fen in credit.items():
        account = accounts[dwelling_id]
        account.balance_fen += fen
        account.updated_at = now
        db.session.add(
            FundMovement(
                dwelling_id=dwelling_id,
                kind="refill",
                amount_fen=fen,
                balance_fen=account.balance_fen,
                income_use_id=use.id,
                actor_id=actor.id,
            )
        )
