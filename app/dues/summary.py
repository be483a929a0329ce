"""A resident's dues across their homes, for the home page: what is still to pay, what waits for confirmation, and payments rejected that they have not seen."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from app.accounts.models import User
from app.community.models import Dwelling, Relation
from app.community.services import relation_of
from app.core.timeutil import local_today
from app.dues import rules
from app.dues.fees import FEE
from app.dues.models import (
    Allocation,
    CostItem,
    DuesSettings,
    FeeRate,
    Payment,
    PaymentStatus,
)
from app.extensions import db


@dataclass
class RejectedPayment:
    """A payment the manager rejected that waits for the resident who recorded it: the
    line is still to pay and nothing was recorded on it since."""

    payment_id: int
    dwelling: Dwelling
    key: int | str  # the bill line: an item id, or FEE
    item_name: str  # "" for the property fee
    amount_fen: int
    reason: str  # the manager's words, shown to the payer only
    decided_at: datetime | None

    @property
    def url_values(self) -> dict:
        """url_for("dues.bill", **values): the bill, at this payment."""
        return {"dwelling_id": self.dwelling.id, "_anchor": f"payment-{self.payment_id}"}

    @property
    def pay_url_values(self) -> dict:
        """url_for("dues.pay", **values): record the payment again."""
        return {"dwelling_id": self.dwelling.id, "item": self.key}


@dataclass
class HomeDues:
    """One home's dues in short, as the resident's home page and to-do list show them."""

    dwelling: Dwelling
    relation: Relation
    share_fen: int = 0
    paid_fen: int = 0  # confirmed
    awaiting_fen: int = 0  # recorded, awaiting the manager's confirmation
    to_pay_fen: int = 0  # still to pay: not paid and not awaiting confirmation
    rejected: list[RejectedPayment] = field(default_factory=list)

    @property
    def needs_action(self) -> bool:
        return bool(self.to_pay_fen or self.rejected)


def _fee_starts_and_rates(compound_ids) -> tuple[dict, dict]:
    """Each compound's fee start and rates in one statement: a compound bills the fee
    only once a start is set, so the rates ride along with its settings row."""
    starts: dict[int, date | None] = {}
    rates: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for compound_id, start, effective_from, rate in db.session.execute(
        sa.select(
            DuesSettings.compound_id,
            DuesSettings.fee_starts_on,
            FeeRate.effective_from,
            FeeRate.rate_fen,
        )
        .outerjoin(FeeRate, FeeRate.compound_id == DuesSettings.compound_id)
        .where(DuesSettings.compound_id.in_(compound_ids))
        .order_by(FeeRate.effective_from)
    ):
        starts[compound_id] = start
        if effective_from is not None:
            rates[compound_id].append((effective_from, Decimal(rate)))
    return starts, rates


def _shares_and_payments(dwelling_ids: list[int]) -> sa.Select:
    """The homes' shares of the cost items and every payment recorded on them, in one
    statement: a payment row has a payment id, a share row none (columns the other kind
    lacks are NULL; the payments come first so their columns give the result types)."""
    paid = (
        sa.select(
            Payment.dwelling_id,
            Payment.item_id,
            CostItem.name,
            Payment.amount_fen,
            Payment.id.label("payment_id"),
            Payment.status,
            Payment.recorded_by_id,
            Payment.reason,
            Payment.decided_at,
        )
        .outerjoin(CostItem, CostItem.id == Payment.item_id)
        .where(Payment.dwelling_id.in_(dwelling_ids))
    )
    shared = (
        sa.select(
            Allocation.dwelling_id,
            CostItem.id,
            CostItem.name,
            Allocation.fen,
            *(sa.null() for _ in range(5)),
        )
        .join(
            CostItem,
            sa.and_(CostItem.id == Allocation.item_id, CostItem.version == Allocation.version),
        )
        .where(Allocation.dwelling_id.in_(dwelling_ids))
    )
    return sa.union_all(paid, shared)


def home_dues(
    user: User, dwellings: list[Dwelling] | None = None, today: date | None = None
) -> list[HomeDues]:
    """Each of the person's homes: share, paid, awaiting confirmation, still to pay, and
    the rejected payments waiting for them. The same figures as each home's bill (a
    tenant's covers the property fee only), in two queries (shares and payments, the fee)
    however many homes and lines.
    Pass the homes when the caller has them (community.services.dwellings_of(user))."""
    today = today or local_today()
    if dwellings is None:
        from app.community.services import dwellings_of

        dwellings = dwellings_of(user)
    relations = {d.id: relation_of(user, d) for d in dwellings}
    homes = [d for d in dwellings if relations[d.id] is not None]
    if not homes:
        return []
    ids = [d.id for d in homes]
    compound_ids = {d.compound_id for d in homes}
    lines: dict[tuple[int, int | str], list] = {}  # (home, key) -> [name, share, paid, pending]
    shares, payments = [], []
    for row in db.session.execute(_shares_and_payments(ids)):
        (payments if row.payment_id is not None else shares).append(row)
    for row in shares:
        lines[(row.dwelling_id, row.item_id)] = [row.name, row.amount_fen, 0, 0]
    starts, rates = _fee_starts_and_rates(compound_ids)
    for home in homes:
        start = starts.get(home.compound_id)
        if start:
            periods = rules.fee_periods(start, today, rates[home.compound_id])
            lines[(home.id, FEE)] = ["", rules.fee_owed(periods, home.area_m2), 0, 0]
    latest: dict[tuple[int, int | str], sa.Row] = {}  # the last payment recorded per line
    for payment in sorted(payments, key=lambda row: row.payment_id):
        key = (payment.dwelling_id, payment.item_id or FEE)
        if relations[payment.dwelling_id] is Relation.TENANT and payment.item_id:
            continue
        line = lines.setdefault(key, [payment.name or "", 0, 0, 0])
        if payment.status is PaymentStatus.CONFIRMED:
            line[2] += payment.amount_fen
        elif payment.status is PaymentStatus.PENDING:
            line[3] += payment.amount_fen
        if payment.status is not PaymentStatus.WITHDRAWN:
            latest[key] = payment
    by_home = {d.id: HomeDues(d, relations[d.id]) for d in homes}
    for (dwelling_id, key), (name, share, paid, pending) in lines.items():
        summary = by_home[dwelling_id]
        if summary.relation is Relation.TENANT and key != FEE:
            continue  # renovation shares are the owners' business
        to_pay = max(share - paid - pending, 0)
        summary.share_fen += share
        summary.paid_fen += paid
        summary.awaiting_fen += pending
        summary.to_pay_fen += to_pay
        last = latest.get((dwelling_id, key))
        if (
            last is not None
            and last.status is PaymentStatus.REJECTED
            and to_pay
            and last.recorded_by_id == user.id
        ):
            summary.rejected.append(
                RejectedPayment(
                    last.payment_id,
                    summary.dwelling,
                    key,
                    name if key != FEE else "",
                    last.amount_fen,
                    last.reason,
                    last.decided_at,
                )
            )
    return [by_home[d.id] for d in homes]


def rejected_payments_waiting(
    user: User, dwellings: list[Dwelling] | None = None, today: date | None = None
) -> list[RejectedPayment]:
    """Every rejected payment waiting for the person (their own, on a line still to pay,
    nothing recorded on it since), newest decision first."""
    waiting = [r for home in home_dues(user, dwellings, today) for r in home.rejected]
    return sorted(waiting, key=lambda r: (r.decided_at is None, r.decided_at), reverse=True)
