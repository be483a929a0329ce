"""What each home owes and how it is paid: bills, payments, funds and public income.

Every change that reads a home's balance and writes a payment locks the home's row first
(PostgreSQL: a row lock; SQLite: the write lock), so double taps and concurrent staff
actions are decided one at a time and a home can never be credited more than it owes.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import AccessLog, User
from app.accounts.permissions import Capability
from app.community import roster as roster_rules
from app.community.models import Building, Compound, Dwelling, Relation, Unit
from app.community.services import relation_of
from app.core import photos as photo_rules
from app.core.db import lock_rows
from app.core.errors import N_, DomainError, NotFound
from app.core.money import MoneyError, fen_to_yuan, parse_decimal, parse_yuan
from app.core.security import form_id
from app.core.spreadsheet import FileRejected, Problem, SpreadsheetError, read_records
from app.core.timeutil import LOCAL_TZ, as_utc, local_today, utcnow
from app.decisions.models import Ballot, BallotKind, BallotStatus, Scope
from app.decisions.rules import Outcome
from app.dues import rules
from app.dues.errors import FieldError
from app.dues.models import (
    RESIDENT_CHANNELS,
    Allocation,
    AllocationRule,
    Bearer,
    Channel,
    CostItem,
    DuesSettings,
    FeeRate,
    FundAccount,
    FundImportPreview,
    FundMovement,
    IncomeEntry,
    IncomeKind,
    IncomeUse,
    Payment,
    PaymentStatus,
)
from app.extensions import db

DEFAULT_FEE_RATE_FEN = Decimal("30")  # ¥0.30 per m² per month
MAX_PAYMENT_FEN = 10**10  # ¥100 million: anything larger is a typing error
FEE = "fee"  # the property fee's line key; renovation items use their id

COUNTED = (PaymentStatus.CONFIRMED,)
OPEN = (PaymentStatus.PENDING, PaymentStatus.CONFIRMED)


def parse_amount(text: str, *, max_fen: int = MAX_PAYMENT_FEN, field: str = "amount") -> int:
    """An amount typed in yuan ("1280.50", "¥1,280.50", "100元"), to fen; each kind of
    mistake gets its own message, shown next to the field."""
    try:
        fen = parse_yuan(text, max_fen=max_fen)
    except MoneyError as exc:
        reason = str(exc)
        if not (text or "").strip():
            raise FieldError(field, N_("Enter the amount in yuan, e.g. 1280.50.")) from exc
        if reason == "more than two decimals":
            raise FieldError(field, N_("An amount has at most two decimals (fen), e.g. "
                                       "1280.50.")) from exc
        if reason == "negative":
            raise FieldError(field, N_("The amount cannot be negative.")) from exc
        if reason == "too large":
            raise FieldError(field, N_("That amount is far too large; check the digits.")
                             ) from exc
        raise FieldError(field, N_("“%(text)s” is not an amount in yuan; write e.g. 1280.50."),
                         text=(text or "")[:20]) from exc
    if fen == 0:
        raise FieldError(field, N_("The amount must be more than zero."))
    return fen


# --- settings: property fee ------------------------------------------------------------------

def settings_of(compound_id: int) -> DuesSettings:
    row = db.session.get(DuesSettings, compound_id)
    return row or DuesSettings(compound_id=compound_id, fee_rate_fen=DEFAULT_FEE_RATE_FEN,
                               fee_starts_on=None)


def rates_of(compound_id: int) -> list[tuple[date, Decimal]]:
    """The property-fee rates and the days they take effect, oldest first."""
    return [(r.effective_from, Decimal(r.rate_fen)) for r in db.session.scalars(
        sa.select(FeeRate).where(FeeRate.compound_id == compound_id)
        .order_by(FeeRate.effective_from))]


def current_rate(compound_id: int, today: date | None = None) -> Decimal:
    """The property-fee rate in effect today (fen per m² per month)."""
    rates = rates_of(compound_id)
    if rates:
        return rules.rate_on(today or local_today(), rates)
    settings = settings_of(compound_id)
    return Decimal(settings.fee_rate_fen if settings.fee_rate_fen is not None
                   else DEFAULT_FEE_RATE_FEN)


def parse_fee_rate(text: str) -> Decimal:
    """A property-fee rate typed in yuan per m² per month ("0.30"), at most 4 decimals."""
    try:
        return parse_decimal(text, places=4, maximum=Decimal(100))
    except MoneyError as exc:
        raise FieldError("rate", N_("Write the rate in yuan per m² per month, e.g. 0.30.")
                         ) from exc


def set_property_fee(compound: Compound, *, rate_yuan: str, starts_on: date | None,
                     effective_from: date | None = None, today: date | None = None) -> None:
    """Rate per m² per month in yuan (e.g. 0.30) and the date billing starts.

    A changed rate takes effect from effective_from (default today): months that began
    before it keep the rate they were served at, so what a home owes for the past never
    changes. The first rate covers the whole time from the start date.
    """
    rate = parse_fee_rate(rate_yuan)
    today = today or local_today()
    if starts_on is not None:
        low, high = rules.fee_start_range(rules.handed_over_on(
            compound.accepted_on, compound.management_start_on))
        if not low <= starts_on <= high:
            raise FieldError("starts_on", N_("Choose a date from %(low)s to %(high)s."),
                             low=low.isoformat(), high=high.isoformat())
    if effective_from is not None and effective_from > rules.FEE_LATEST:
        raise FieldError("effective_from", N_("Choose a date from the year 2000 to 2100."))
    row = db.session.get(DuesSettings, compound.id)
    if row is None:
        row = DuesSettings(compound_id=compound.id)
        db.session.add(row)
    rate_fen = rate * 100
    rates = rates_of(compound.id)
    if not rates:
        db.session.add(FeeRate(compound_id=compound.id, rate_fen=rate_fen,
                               effective_from=starts_on or today))
    else:
        effective = effective_from or today
        if effective < today:
            raise FieldError("effective_from", N_("A new rate applies from today or a later "
                                                  "day: months already served keep the rate "
                                                  "they were billed at."))
        if rules.rate_on(effective, rates) != rate_fen:
            existing = db.session.scalar(sa.select(FeeRate).where(
                FeeRate.compound_id == compound.id, FeeRate.effective_from == effective))
            if existing is not None:
                existing.rate_fen = rate_fen
            else:
                db.session.add(FeeRate(compound_id=compound.id, rate_fen=rate_fen,
                                       effective_from=effective))
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


def fee_terms(dwelling: Dwelling, settings: DuesSettings, today: date,
              rates: list[tuple[date, Decimal]] | None = None) -> FeeTerms:
    rates = rates_of(dwelling.compound_id) if rates is None else rates
    rate = rules.rate_on(today, rates) if rates else Decimal(
        settings.fee_rate_fen if settings.fee_rate_fen is not None else DEFAULT_FEE_RATE_FEN)
    start = settings.fee_starts_on
    periods = tuple(rules.fee_periods(start, today, rates)) if start else ()
    return FeeTerms(rate, start, sum(m for _, m in periods),
                    rules.monthly_fee(rate, dwelling.area_m2), periods,
                    rules.fee_owed(list(periods), dwelling.area_m2))


# --- the maintenance fund's gate ---------------------------------------------------------------

def fund_decision_passed(ballot: Ballot | None, dwelling: Dwelling) -> bool:
    """A published, passed "use the maintenance fund" decision that covers this home."""
    if ballot is None or ballot.kind is not BallotKind.FUND_USE:
        return False
    if ballot.status is not BallotStatus.PUBLISHED or ballot.outcome != Outcome.PASSED.value:
        return False
    return ballot.covers(dwelling)


def fund_ballots(compound: Compound) -> list[Ballot]:
    """The compound's passed and published "use the maintenance fund" decisions."""
    return list(db.session.scalars(sa.select(Ballot).where(
        Ballot.compound_id == compound.id, Ballot.kind == BallotKind.FUND_USE,
        Ballot.status == BallotStatus.PUBLISHED, Ballot.outcome == Outcome.PASSED.value)
        .order_by(Ballot.published_at.desc())))


INCOME_USE_KINDS = (BallotKind.FUND_USE, BallotKind.GENERAL)


def passed_ballots(compound: Compound) -> list[Ballot]:
    """Published, passed owner decisions of a kind that can put public income to use (a
    fund decision or a general one — not a renovation, elevator or management vote)."""
    return list(db.session.scalars(sa.select(Ballot).where(
        Ballot.compound_id == compound.id, Ballot.status == BallotStatus.PUBLISHED,
        Ballot.kind.in_(INCOME_USE_KINDS), Ballot.outcome == Outcome.PASSED.value,
        Ballot.scope == Scope.COMPOUND)  # income of the common parts: all owners decide
        .order_by(Ballot.published_at.desc())))


def link_fund_decision(item: CostItem, ballot_id: int | None) -> None:
    if ballot_id is None:
        item.fund_ballot_id = None
    else:
        compound = db.session.get(Compound, item.compound_id)
        if ballot_id not in {b.id for b in fund_ballots(compound)}:
            raise FieldError("ballot", N_("Choose a passed and published decision to use the "
                                          "maintenance fund."))
        item.fund_ballot_id = ballot_id
    db.session.commit()


def approve_emergency(item: CostItem, actor: User, note: str) -> None:
    """The committee lets the maintenance fund pay an urgent item without a vote."""
    note = (note or "").strip()
    if not note or len(note) > 200:
        raise FieldError("note", N_("Say what the emergency is (at most 200 characters)."))
    item.emergency_by_id, item.emergency_at, item.emergency_note = actor.id, utcnow(), note
    db.session.commit()


def withdraw_emergency(item: CostItem) -> None:
    item.emergency_by_id = item.emergency_at = None
    item.emergency_note = ""
    db.session.commit()


# --- the bill -------------------------------------------------------------------------------

@dataclass
class ChannelView:
    channel: Channel
    eligible: bool
    max_fen: int
    reason: str  # a code the page explains (see templates/dues/_channel.html)
    applied_fen: int = 0  # what this channel has already paid (confirmed)


@dataclass
class BillLine:
    key: int | str  # item id, or FEE
    name: str
    item: CostItem | None
    share_fen: int
    paid_fen: int = 0  # confirmed
    pending_fen: int = 0
    channels: list[ChannelView] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)

    @property
    def outstanding_fen(self) -> int:
        return max(self.share_fen - self.paid_fen, 0)

    @property
    def credit_fen(self) -> int:
        """Paid beyond the share (only after an item's cost went down): to be refunded."""
        return max(self.paid_fen - self.share_fen, 0)

    @property
    def open_fen(self) -> int:
        """What may still be recorded: outstanding less payments awaiting confirmation."""
        return max(self.share_fen - self.paid_fen - self.pending_fen, 0)

    @property
    def awaiting_fen(self) -> int:
        """Recorded by the resident, not yet confirmed: not paid, and not "still to pay"."""
        return self.pending_fen

    @property
    def to_pay_fen(self) -> int:
        """Still to pay: the share less what is confirmed and what awaits confirmation."""
        return self.open_fen

    def channel(self, channel: Channel) -> ChannelView | None:
        return next((c for c in self.channels if c.channel is channel), None)


@dataclass
class Bill:
    dwelling: Dwelling
    lines: list[BillLine]
    fee: FeeTerms
    fund: FundAccount | None
    provident_used: bool
    provident_open: bool = False  # completion acceptance has passed (DESIGN §5)

    @property
    def fund_low(self) -> bool:
        return self.fund is not None and rules.fund_is_low(self.fund.balance_fen,
                                                           self.fund.initial_fen)

    @property
    def share_fen(self) -> int:
        return sum(line.share_fen for line in self.lines)

    @property
    def paid_fen(self) -> int:
        return sum(line.paid_fen for line in self.lines)

    @property
    def outstanding_fen(self) -> int:
        return sum(line.outstanding_fen for line in self.lines)

    @property
    def pending_fen(self) -> int:
        return sum(line.pending_fen for line in self.lines)

    @property
    def awaiting_fen(self) -> int:
        """Recorded payments awaiting the manager's confirmation."""
        return self.pending_fen

    @property
    def to_pay_fen(self) -> int:
        """Still to pay, once the payments awaiting confirmation are counted."""
        return sum(line.to_pay_fen for line in self.lines)

    def line(self, key: int | str) -> BillLine:
        for line in self.lines:
            if line.key == key:
                return line
        raise NotFound()


def current_shares(dwelling_ids: list[int] | None, compound_id: int):
    """(dwelling id, item, fen) for the current version of every item of the compound."""
    stmt = (sa.select(Allocation.dwelling_id, CostItem, Allocation.fen)
            .join(CostItem, sa.and_(CostItem.id == Allocation.item_id,
                                    CostItem.version == Allocation.version))
            .where(CostItem.compound_id == compound_id).order_by(CostItem.id))
    if dwelling_ids is not None:
        stmt = stmt.where(Allocation.dwelling_id.in_(dwelling_ids))
    return db.session.execute(stmt).all()


def bill_for(dwelling: Dwelling, today: date | None = None, *,
             relation: Relation | None = None) -> Bill:
    """Everything the home owes, what has been paid, and each channel that can pay.

    Renovation shares and the maintenance fund are the owners' business: a tenant's bill
    (relation=TENANT) holds the property fee only. Staff pass no relation and see all.
    """
    today = today or local_today()
    compound = dwelling.compound
    payments = list(db.session.scalars(
        sa.select(Payment).where(Payment.dwelling_id == dwelling.id)
        .execution_options(populate_existing=True).order_by(Payment.id)))
    fund = db.session.scalar(sa.select(FundAccount).where(FundAccount.dwelling_id == dwelling.id)
                             .execution_options(populate_existing=True))
    provident_used = any(p.channel is Channel.PROVIDENT_FUND and p.status in OPEN
                         for p in payments)
    lines: list[BillLine] = []
    for _, item, fen in current_shares([dwelling.id], compound.id):
        lines.append(BillLine(item.id, item.name, item, fen))
    fee = fee_terms(dwelling, settings_of(compound.id), today)
    if fee.starts_on:
        lines.append(BillLine(FEE, "", None, fee.owed_fen))
    by_key = {line.key: line for line in lines}
    ballots = {b.id: b for b in db.session.scalars(sa.select(Ballot).where(
        Ballot.id.in_({line.item.fund_ballot_id for line in lines
                       if line.item and line.item.fund_ballot_id})))}
    applied: dict[tuple, int] = defaultdict(int)
    if relation is Relation.TENANT:
        lines = [line for line in lines if line.key == FEE]
        by_key = {line.key: line for line in lines}
        payments = [p for p in payments if p.item_id is None]
        fund = None
    for payment in payments:
        line = by_key.get(payment.item_id if payment.item_id else FEE)
        if line is None:  # an item no longer allocated to this home: keep it visible
            item = payment.item
            line = BillLine(payment.item_id or FEE, item.name if item else "", item, 0)
            lines.append(line)
            by_key[line.key] = line
        line.payments.append(payment)
        if payment.status is PaymentStatus.CONFIRMED:
            line.paid_fen += payment.amount_fen
            applied[(line.key, payment.channel)] += payment.amount_fen
        elif payment.status is PaymentStatus.PENDING:
            line.pending_fen += payment.amount_fen
    fund_free = (fund.balance_fen if fund else 0) - sum(
        p.amount_fen for p in payments
        if p.channel is Channel.MAINTENANCE_FUND and p.status is PaymentStatus.PENDING)
    for line in lines:
        line.channels = _channels(line, dwelling, compound, today, fund, max(fund_free, 0),
                                  provident_used, ballots, applied)
    return Bill(dwelling, lines, fee, fund, provident_used,
                provident_open=provident_open(compound, today))


def provident_open(compound: Compound, today: date | None = None) -> bool:
    """The housing provident fund channel and its statement exist only after completion
    acceptance (an acceptance date recorded, and reached)."""
    return rules.accepted(compound.accepted_on, today or local_today())


def _channels(line: BillLine, dwelling: Dwelling, compound: Compound, today: date,
              fund: FundAccount | None, fund_free: int, provident_used: bool,
              ballots: dict, applied: dict) -> list[ChannelView]:
    open_fen = line.open_fen
    views = [ChannelView(Channel.DIRECT, open_fen > 0, open_fen,
                         "ok" if open_fen else "nothing_to_pay")]
    item = line.item
    if item is not None:
        hardship = applied[(line.key, Channel.HARDSHIP)]
        pf = rules.provident_fund(own_home_item=item.own_home, accepted_on=compound.accepted_on,
                                  today=today, already_used=provident_used,
                                  share_fen=line.share_fen, subsidy_fen=hardship)
        limit = min(pf.max_fen, open_fen)
        views.append(ChannelView(Channel.PROVIDENT_FUND, pf.eligible and limit > 0, limit,
                                 pf.reason if not pf.eligible or limit else "nothing_to_pay"))
        mf = rules.maintenance_fund(
            balance_fen=fund_free,  # the balance less fund payments awaiting confirmation
            approved_decision=fund_decision_passed(ballots.get(item.fund_ballot_id), dwelling),
            emergency_approved=item.emergency_at is not None, owed_fen=open_fen)
        reason = mf.reason if mf.eligible or mf.reason == "no_decision" else (
            "no_account" if fund is None else "nothing_to_pay" if not open_fen else "no_balance")
        views.append(ChannelView(Channel.MAINTENANCE_FUND, mf.eligible, mf.max_fen, reason))
    views.append(ChannelView(Channel.PUBLIC_INCOME, False, 0, "by_decision"))
    views.append(ChannelView(Channel.HARDSHIP, False, 0, "committee"))
    for view in views:
        view.applied_fen = applied[(line.key, view.channel)]
    return views


# --- residents record payments ---------------------------------------------------------------

def _lock_homes(compound_id: int) -> None:
    """Lock every home of a compound (imports and public-income uses touch many)."""
    lock_rows(Dwelling.updated_at, Dwelling.compound_id == compound_id)


def _lock_item(item_id: int | None) -> None:
    """Wait for a change of the item's amounts (services.change_item locks it too)."""
    if item_id is not None:
        lock_rows(CostItem.version, CostItem.id == item_id)


def _lock_dwelling(dwelling_id: int) -> None:
    """Serialise every balance change of one home (see the module docstring)."""
    lock_rows(Dwelling.updated_at, Dwelling.id == dwelling_id)


CHANNEL_REFUSALS = {
    "not_own_home": N_("The housing provident fund pays only for your own home's works, "
                       "such as the elevator share or windows."),
    "before_acceptance": N_("The housing provident fund can be used only after the works "
                            "pass completion acceptance."),
    "already_used": N_("This home has already used the housing provident fund once."),
    "no_decision": N_("The maintenance fund can pay this only after the owners approve "
                      "using it (or the committee approves an emergency)."),
    "no_account": N_("There is no maintenance fund balance on record for this home."),
    "no_balance": N_("This home's maintenance fund balance is used up."),
    "nothing_to_pay": N_("Nothing is left to pay on this item."),
}


def payable_channels(line: BillLine, relation: Relation | None) -> list[ChannelView]:
    """The channels a resident may record a payment by now: eligible, of the resident
    kind, and the owners' funds only for an owner."""
    return [c for c in line.channels if c.channel in RESIDENT_CHANNELS and c.eligible
            and (c.channel is Channel.DIRECT or relation is Relation.OWNER)]


def details_visible(payment: Payment, user: User, relation: Relation | None) -> bool:
    """A payment's reference, reason and photo are its payer's. The committee's notes on
    renovation items (public income, hardship) are the owners'; a note on the property
    fee may concern a tenant household, so it stays with staff."""
    if payment.recorded_by_id == user.id:
        return True
    return (payment.item_id is not None and relation is Relation.OWNER
            and payment.channel in (Channel.PUBLIC_INCOME, Channel.HARDSHIP))


def get_line_key(value: str | None) -> int | str:
    """A bill line's key from a form or query: "fee" or an item id. Anything else (a
    20-digit number, "²", "１") is not a line of any bill: NotFound (404)."""
    if value == FEE:
        return FEE
    item_id = form_id(value)
    if item_id is None:
        raise NotFound()
    return item_id


def check_payment_form(channel: Channel | None, reference: str,
                       has_photo: bool) -> list[FieldError]:
    """What is wrong with a payment form before its amount is checked against the bill
    (all at once, so the resident fixes everything in one go)."""
    problems = []
    if channel not in RESIDENT_CHANNELS:
        problems.append(FieldError("channel", N_("Choose how you paid.")))
    reference = (reference or "").strip()
    if len(reference) > 100:
        problems.append(FieldError("reference", N_("The reference may be at most 100 "
                                                   "characters.")))
    elif channel is Channel.DIRECT and not reference and not has_photo:
        problems.append(FieldError("reference", N_(
            "Give the transfer or receipt number, or a photo of the receipt, so the "
            "manager can find the payment.")))
    return problems


def record_payment(user: User, dwelling: Dwelling, *, key: int | str, channel: Channel,
                   amount_fen: int, reference: str, photo: bytes | None, token: str,
                   upload_dir: Path, today: date | None = None) -> tuple[Payment, bool]:
    """A resident's payment, pending until a manager confirms it. Returns (payment, new):
    the same form sent twice (a double tap) gives back the first payment."""
    relation = relation_of(user, dwelling)
    if relation is None:
        raise NotFound()
    problems = check_payment_form(channel, reference, bool(photo))
    if problems:
        raise problems[0]
    _positive(amount_fen)
    if channel is not Channel.DIRECT and relation is not Relation.OWNER:
        raise FieldError("channel", N_("Only the owner can pay from the provident fund or the "
                                       "maintenance fund."))
    reference = (reference or "").strip()
    token = (token or "")[:40] or None
    try:
        stored = photo_rules.process(photo, upload_dir) if photo else None
    except DomainError as exc:
        raise FieldError("photo", exc.message, **exc.params) from exc
    try:
        _lock_dwelling(dwelling.id)
        if token:
            existing = db.session.scalar(sa.select(Payment).where(
                Payment.dwelling_id == dwelling.id, Payment.token == token))
            if existing is not None:
                db.session.rollback()
                _remove(upload_dir, stored)
                return existing, False
        line = bill_for(dwelling, today, relation=relation).line(key)
        view = line.channel(channel)
        if view is None:
            raise FieldError("channel", N_("This channel cannot pay this item."))
        if not view.eligible:
            raise FieldError("channel", CHANNEL_REFUSALS.get(view.reason, CHANNEL_REFUSALS[
                "nothing_to_pay"]))
        if amount_fen > view.max_fen:
            raise FieldError("amount", N_("That is more than can be paid this way: at most "
                                          "%(max)s."), max=rules_yuan(view.max_fen))
        payment = Payment(compound_id=dwelling.compound_id, dwelling_id=dwelling.id,
                          item_id=key if key != FEE else None, channel=channel,
                          amount_fen=amount_fen, reference=reference,
                          photo=stored.name if stored else None, token=token,
                          recorded_by_id=user.id, status=PaymentStatus.PENDING)
        db.session.add(payment)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _remove(upload_dir, stored)
        raise
    return payment, True


def rules_yuan(fen: int) -> str:
    """¥1,234.50 in plain digits for messages (the page formats amounts by locale)."""
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def _remove(upload_dir: Path, stored) -> None:
    if stored is not None:
        (upload_dir / stored.name).unlink(missing_ok=True)


def withdraw_payment(user: User, payment_id: int) -> None:
    """A resident takes back a payment the manager has not decided yet."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.recorded_by_id != user.id:
        raise NotFound()
    _lock_dwelling(payment.dwelling_id)
    db.session.refresh(payment)
    if payment.status is not PaymentStatus.PENDING:
        db.session.rollback()
        raise DomainError(N_("Only a payment still waiting for confirmation can be "
                             "withdrawn."))
    payment.status = PaymentStatus.WITHDRAWN
    payment.decided_by_id, payment.decided_at = user.id, utcnow()
    db.session.commit()


# --- what the resident's home page shows -----------------------------------------------------

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


def home_dues(user: User, dwellings: list[Dwelling] | None = None,
              today: date | None = None) -> list[HomeDues]:
    """Each of the person's homes: share, paid, awaiting confirmation, still to pay, and
    the rejected payments waiting for them. The same figures as each home's bill (a
    tenant's covers the property fee only), in four queries however many homes and lines.
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
    for dwelling_id, item_id, name, fen in db.session.execute(
            sa.select(Allocation.dwelling_id, CostItem.id, CostItem.name, Allocation.fen)
            .join(CostItem, sa.and_(CostItem.id == Allocation.item_id,
                                    CostItem.version == Allocation.version))
            .where(Allocation.dwelling_id.in_(ids))):
        lines[(dwelling_id, item_id)] = [name, fen, 0, 0]
    starts = dict(db.session.execute(sa.select(DuesSettings.compound_id,
                                               DuesSettings.fee_starts_on)
                                     .where(DuesSettings.compound_id.in_(compound_ids))).all())
    rates: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for compound_id, effective_from, rate in db.session.execute(
            sa.select(FeeRate.compound_id, FeeRate.effective_from, FeeRate.rate_fen)
            .where(FeeRate.compound_id.in_(compound_ids))):
        rates[compound_id].append((effective_from, Decimal(rate)))
    for home in homes:
        start = starts.get(home.compound_id)
        if start:
            periods = rules.fee_periods(start, today, rates[home.compound_id])
            lines[(home.id, FEE)] = ["", rules.fee_owed(periods, home.area_m2), 0, 0]
    payments = db.session.execute(
        sa.select(Payment, CostItem.name).outerjoin(CostItem, CostItem.id == Payment.item_id)
        .where(Payment.dwelling_id.in_(ids)).order_by(Payment.id)).all()
    latest: dict[tuple[int, int | str], Payment] = {}  # the last payment recorded per line
    for payment, name in payments:
        key = (payment.dwelling_id, payment.item_id or FEE)
        if relations[payment.dwelling_id] is Relation.TENANT and payment.item_id:
            continue
        line = lines.setdefault(key, [name or "", 0, 0, 0])
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
        if (last is not None and last.status is PaymentStatus.REJECTED and to_pay
                and last.recorded_by_id == user.id):
            summary.rejected.append(RejectedPayment(
                last.id, summary.dwelling, key, name if key != FEE else "", last.amount_fen,
                last.reason, last.decided_at))
    return [by_home[d.id] for d in homes]


def rejected_payments_waiting(user: User, dwellings: list[Dwelling] | None = None,
                              today: date | None = None) -> list[RejectedPayment]:
    """Every rejected payment waiting for the person (their own, on a line still to pay,
    nothing recorded on it since), newest decision first."""
    waiting = [r for home in home_dues(user, dwellings, today) for r in home.rejected]
    return sorted(waiting, key=lambda r: (r.decided_at is None, r.decided_at), reverse=True)


# --- staff decide ---------------------------------------------------------------------------

def get_payment_for_staff(payment_id: int, compound: Compound) -> Payment:
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.compound_id != compound.id:
        raise NotFound()
    return payment


def confirm_payment(payment: Payment, actor: User, today: date | None = None) -> bool:
    """Confirm a pending payment; returns False when it was already confirmed (no change).

    A payment that would take the home past what it owes is refused, and a maintenance-fund
    payment needs the balance (and the decision) at the moment of confirming.
    """
    _lock_dwelling(payment.dwelling_id)
    db.session.refresh(payment)
    _lock_item(payment.item_id)
    if payment.status is PaymentStatus.CONFIRMED:
        db.session.rollback()
        return False
    if payment.status is PaymentStatus.REJECTED:
        db.session.rollback()
        raise DomainError(N_("This payment was rejected; the resident can record it again."))
    if payment.status is PaymentStatus.WITHDRAWN:
        db.session.rollback()
        raise DomainError(N_("The resident withdrew this payment: there is nothing to "
                             "confirm."))
    dwelling = db.session.get(Dwelling, payment.dwelling_id)
    line = bill_for(dwelling, today).line(payment.item_id or FEE)
    if payment.amount_fen > line.outstanding_fen:
        db.session.rollback()
        raise DomainError(N_("Confirming this would pay more than is owed (outstanding "
                             "%(left)s). Reject it with a reason."),
                          left=rules_yuan(line.outstanding_fen))
    if payment.channel is Channel.MAINTENANCE_FUND:
        view = line.channel(Channel.MAINTENANCE_FUND)
        if view is None or view.reason == "no_decision":
            db.session.rollback()
            raise DomainError(CHANNEL_REFUSALS["no_decision"])
        account = db.session.scalar(sa.select(FundAccount).where(
            FundAccount.dwelling_id == dwelling.id).with_for_update())
        if account is None or account.balance_fen < payment.amount_fen:
            db.session.rollback()
            raise DomainError(N_("The home's maintenance fund balance is not enough for this "
                                 "payment."))
        account.balance_fen -= payment.amount_fen
        account.updated_at = utcnow()
        db.session.add(FundMovement(dwelling_id=dwelling.id, kind="payment",
                                    amount_fen=-payment.amount_fen,
                                    balance_fen=account.balance_fen, payment_id=payment.id,
                                    actor_id=actor.id))
    payment.status = PaymentStatus.CONFIRMED
    payment.decided_by_id, payment.decided_at = actor.id, utcnow()
    db.session.commit()
    return True


def reject_payment(payment: Payment, actor: User, reason: str) -> bool:
    """Reject a pending payment with a reason the resident sees; False if already rejected."""
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise FieldError("reason", N_("Give the resident a reason (at most 200 characters)."))
    _lock_dwelling(payment.dwelling_id)
    db.session.refresh(payment)
    if payment.status is PaymentStatus.REJECTED:
        db.session.rollback()
        return False
    if payment.status is PaymentStatus.WITHDRAWN:
        db.session.rollback()
        raise DomainError(N_("The resident withdrew this payment: there is nothing to "
                             "reject."))
    if payment.status is PaymentStatus.CONFIRMED:
        db.session.rollback()
        raise DomainError(N_("This payment is already confirmed and cannot be rejected."))
    payment.status, payment.reason = PaymentStatus.REJECTED, reason
    payment.decided_by_id, payment.decided_at = actor.id, utcnow()
    db.session.commit()
    return True


def grant_hardship(dwelling: Dwelling, actor: User, *, key: int | str, amount_fen: int,
                   note: str, today: date | None = None) -> Payment:
    """The committee marks a household in hardship and how much it is let off."""
    _positive(amount_fen)
    note = (note or "").strip()
    if not note or len(note) > 100:
        raise FieldError("note", N_("Note the committee's decision (at most 100 characters)."))
    _lock_dwelling(dwelling.id)
    _lock_item(key if key != FEE else None)
    line = bill_for(dwelling, today).line(key)
    if amount_fen > line.open_fen:
        db.session.rollback()
        raise FieldError("amount", N_("That is more than is still open on this item: at most "
                                      "%(max)s."), max=rules_yuan(line.open_fen))
    payment = Payment(compound_id=dwelling.compound_id, dwelling_id=dwelling.id,
                      item_id=key if key != FEE else None, channel=Channel.HARDSHIP,
                      amount_fen=amount_fen, reference=note, recorded_by_id=actor.id,
                      status=PaymentStatus.CONFIRMED, decided_by_id=actor.id,
                      decided_at=utcnow())
    db.session.add(payment)
    db.session.commit()
    return payment


PENDING_PER_PAGE = 30


def pending_count(compound: Compound) -> int:
    return db.session.scalar(sa.select(sa.func.count(Payment.id)).where(
        Payment.compound_id == compound.id, Payment.status == PaymentStatus.PENDING)) or 0


def pending_payments(compound: Compound, page: int = 1,
                     per_page: int = PENDING_PER_PAGE) -> list[Payment]:
    """Payments waiting for a manager, oldest first, a page at a time."""
    return list(db.session.scalars(
        sa.select(Payment).where(Payment.compound_id == compound.id,
                                 Payment.status == PaymentStatus.PENDING)
        .options(selectinload(Payment.item),
                 selectinload(Payment.dwelling).selectinload(Dwelling.unit)
                 .selectinload(Unit.building))
        .order_by(Payment.recorded_at, Payment.id)
        .limit(per_page).offset((max(page, 1) - 1) * per_page)))


def payment_photo(payment_id: int, user: User) -> Payment:
    """A receipt photo, only for the person who recorded it and the compound's dues staff."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or not payment.photo:
        raise NotFound()
    if payment.recorded_by_id != user.id and not user.can(payment.compound_id,
                                                          Capability.SEE_DUES):
        raise NotFound()  # a receipt is the payer's: not even others in the home see it
    return payment


# --- the compound's view ----------------------------------------------------------------------

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
    items = list(db.session.scalars(sa.select(CostItem).where(
        CostItem.compound_id == compound.id).options(selectinload(CostItem.shares))
        .order_by(CostItem.id)))
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
    homes = list(db.session.execute(
        sa.select(Dwelling.id, Dwelling.area_m2, Building.name, Building.sort_key)
        .join(Unit, Unit.id == Dwelling.unit_id).join(Building)
        .where(Dwelling.compound_id == compound.id)).all())
    owed: dict[tuple, int] = defaultdict(int)
    for dwelling_id, item_id, fen in db.session.execute(
            sa.select(Allocation.dwelling_id, Allocation.item_id, Allocation.fen)
            .join(CostItem, sa.and_(CostItem.id == Allocation.item_id,
                                    CostItem.version == Allocation.version))
            .where(CostItem.compound_id == compound.id, Allocation.fen > 0)):
        owed[(dwelling_id, item_id)] += fen
    settings = settings_of(compound.id)
    if settings.fee_starts_on:
        periods = rules.fee_periods(settings.fee_starts_on, today, rates_of(compound.id))
        for dwelling_id, area, _, _ in homes:
            owed[(dwelling_id, FEE)] = rules.fee_owed(periods, area)
    paid: dict[tuple, int] = defaultdict(int)
    pending: dict[tuple, int] = defaultdict(int)
    for dwelling_id, item_id, status, fen in db.session.execute(
            sa.select(Payment.dwelling_id, Payment.item_id, Payment.status,
                      sa.func.sum(Payment.amount_fen))
            .where(Payment.compound_id == compound.id,
                   Payment.status.in_(OPEN))
            .group_by(Payment.dwelling_id, Payment.item_id, Payment.status)):
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
            fen - paid[(dwelling_id, key)] - pending[(dwelling_id, key)], 0)
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


# --- maintenance fund balances ----------------------------------------------------------------

# The documented columns (README and the import page), Chinese or English. The header row
# is required: a file is never read by position, so another spreadsheet (the roster export,
# say) is refused instead of overwriting balances with floors and areas.
FUND_COLUMNS: dict[str, tuple[str, str]] = {
    "building": ("楼栋", "building"),
    "unit": ("单元", "unit"),
    "room": ("房号", "room"),
    "initial": ("初始交存", "initial"),
    "balance": ("当前余额", "balance"),
}
FUND_REQUIRED = ("building", "room", "initial", "balance")  # the unit column may be left out
FUND_LABELS = {key: f"{zh} / {en}" for key, (zh, en) in FUND_COLUMNS.items()}
FUND_HEADER = ["楼栋 building", "单元 unit", "房号 room", "初始交存 initial (yuan)",
               "当前余额 balance (yuan)"]
FUND_PREVIEW_MINUTES = 30  # a checked file waits this long for the manager's confirmation
FUND_PREVIEW_CHANGES = 200  # rows of changes listed on the preview page


def _fund_lookup() -> dict[str, str]:
    """Header texts (lower case) -> field: "楼栋", "building", "楼栋 building", "初始交存（元）",
    "initial (yuan)" and the like."""
    lookup = {}
    for key, (zh, en) in FUND_COLUMNS.items():
        names = {zh, en, f"{zh} {en}", f"{zh}/{en}", f"{zh} / {en}", f"{zh}({en})",
                 f"{zh}（{en}）"}
        if key in ("initial", "balance"):
            names |= {f"{name} (yuan)" for name in names}
            names |= {f"{zh}(元)", f"{zh}（元）", f"{en}(yuan)", f"{en}_yuan"}
        lookup.update({name.lower(): key for name in names})
    lookup["余额"] = "balance"
    return lookup


FUND_LOOKUP = _fund_lookup()


@dataclass
class FundImport:
    created: int = 0
    updated: int = 0


class AlreadyImported(DomainError):
    """The previewed balances were imported already (a second tap on "import")."""

    def __init__(self):
        super().__init__(N_("These balances were already imported."))


def read_fund_file(compound: Compound, data: bytes, filename: str) -> list[tuple[int, int, int]]:
    """Read and check a maintenance-fund statement: [(dwelling id, initial fen, balance
    fen)]. The file goes through the core reader (size, decompression bombs, row limits);
    a file without the documented headers is refused naming what is missing and what was
    found (FieldError on "file"); bad rows are all listed (FileRejected), nothing read."""
    try:
        table = read_records(data, filename, FUND_LOOKUP, required=FUND_REQUIRED,
                             labels=FUND_LABELS)
    except SpreadsheetError as exc:
        raise FieldError("file", exc.message, **exc.params) from exc
    if not table.records:
        raise FieldError("file", N_("The file has a header row but no homes under it."))
    homes = {(b, u, r): d_id for d_id, b, u, r in db.session.execute(
        sa.select(Dwelling.id, Building.name, Unit.name, Dwelling.room)
        .join(Unit, Unit.id == Dwelling.unit_id).join(Building)
        .where(Dwelling.compound_id == compound.id))}
    problems: list[Problem] = []
    parsed: dict[int, tuple[int, int]] = {}
    for record in table.records:
        building, unit, room = (record.get("building"), record.get("unit"),
                                record.get("room"))
        home = homes.get((roster_rules.normalize_building(building),
                          roster_rules.normalize_unit(unit), room))
        if home is None:
            problems.append(Problem(N_("There is no home %(home)s in this compound."),
                                    {"home": "-".join(p for p in (building, unit, room) if p)[:40]},
                                    record.row, "room"))
            continue
        amounts = []
        for column in ("initial", "balance"):
            text = record.get(column)
            try:
                amounts.append(parse_yuan(text, max_fen=MAX_PAYMENT_FEN))
            except MoneyError:
                problems.append(Problem(N_("“%(text)s” is not an amount in yuan."),
                                        {"text": text[:20]}, record.row, column))
        if len(amounts) == 2:
            if home in parsed:
                problems.append(Problem(N_("This home appears twice in the file."), {},
                                        record.row, "room"))
            parsed[home] = (amounts[0], amounts[1])
    if problems:
        raise FileRejected(problems)
    return [(home, initial, balance) for home, (initial, balance) in parsed.items()]


def import_fund_balances(compound: Compound, data: bytes, filename: str, *,
                         actor: User | None) -> FundImport:
    """Per-home maintenance-fund deposits and balances from the fund's statement, at once
    (the command line; the staff page previews first). All rows or none; logged."""
    rows = read_fund_file(compound, data, filename)
    summary = _apply_fund_rows(compound, rows, actor)
    db.session.add(AccessLog(user_id=actor.id if actor else None, compound_id=compound.id,
                             action="fund_import", target=f"{len(rows)} homes"))
    db.session.commit()
    return summary


def preview_fund_import(compound: Compound, data: bytes, filename: str, *,
                        actor: User, now: datetime | None = None) -> str:
    """Check a fund file and keep what it says, unapplied, until the manager confirms.
    Returns the preview's token (random; the confirmation names it)."""
    rows = read_fund_file(compound, data, filename)
    now = now or utcnow()
    db.session.execute(sa.delete(FundImportPreview).where(FundImportPreview.expires_at < now))
    token = secrets.token_urlsafe(24)
    db.session.add(FundImportPreview(
        token=token, compound_id=compound.id, actor_id=actor.id, filename=filename[:200],
        rows=json.dumps(rows, separators=(",", ":")), created_at=now,
        expires_at=now + timedelta(minutes=FUND_PREVIEW_MINUTES)))
    db.session.commit()
    return token


@dataclass
class FundChange:
    address: str
    initial_before: int | None  # None: the home has no account yet
    initial_after: int
    balance_before: int | None
    balance_after: int


@dataclass
class FundPreview:
    token: str
    filename: str
    expires_at: datetime
    homes: int  # homes in the file
    created: int  # accounts that will be opened
    updated: int  # accounts whose deposit or balance changes
    unchanged: int
    initial_before_fen: int  # the compound's totals, before and after
    initial_after_fen: int
    balance_before_fen: int
    balance_after_fen: int
    changes: list[FundChange]  # the first FUND_PREVIEW_CHANGES rows that change

    @property
    def changed(self) -> int:
        return self.created + self.updated


def _preview_row(compound: Compound, token: str, actor: User) -> FundImportPreview:
    """The manager's own preview for this compound; anyone else's, or a forged token, 404."""
    if not token or len(token) > 64:
        raise NotFound()
    row = db.session.scalar(sa.select(FundImportPreview).where(
        FundImportPreview.token == token, FundImportPreview.compound_id == compound.id,
        FundImportPreview.actor_id == actor.id))
    if row is None:
        raise NotFound()
    return row


def fund_preview(compound: Compound, token: str, actor: User,
                 now: datetime | None = None) -> FundPreview:
    """What confirming the preview would change, against the balances as they are now."""
    row = _preview_row(compound, token, actor)
    if row.imported_at is not None:
        raise AlreadyImported()
    if row.expires_at <= (now or utcnow()):
        raise DomainError(N_("This preview has expired. Choose the file again."))
    rows = [tuple(r) for r in json.loads(row.rows)]
    accounts = {d: (i, b) for d, i, b in db.session.execute(
        sa.select(FundAccount.dwelling_id, FundAccount.initial_fen, FundAccount.balance_fen)
        .where(FundAccount.compound_id == compound.id))}
    address = _addresses(compound)
    preview = FundPreview(token, row.filename, row.expires_at, len(rows), 0, 0, 0,
                          sum(i for i, _ in accounts.values()), 0,
                          sum(b for _, b in accounts.values()), 0, [])
    initial_after, balance_after = preview.initial_before_fen, preview.balance_before_fen
    for dwelling_id, initial, balance in rows:
        before = accounts.get(dwelling_id)
        if before == (initial, balance):
            preview.unchanged += 1
            continue
        if before is None:
            preview.created += 1
        else:
            preview.updated += 1
            initial_after -= before[0]
            balance_after -= before[1]
        initial_after += initial
        balance_after += balance
        if len(preview.changes) < FUND_PREVIEW_CHANGES:
            preview.changes.append(FundChange(
                address.get(dwelling_id, ""), before[0] if before else None, initial,
                before[1] if before else None, balance))
    preview.initial_after_fen, preview.balance_after_fen = initial_after, balance_after
    preview.changes.sort(key=lambda c: roster_rules.natural_key(c.address))
    return preview


def confirm_fund_import(compound: Compound, token: str, actor: User,
                        now: datetime | None = None) -> FundImport:
    """Import a previewed file, once: the preview is marked imported by a conditional
    UPDATE in the same transaction, so a double tap or two workers at once import it
    one time and the other gets AlreadyImported."""
    row = _preview_row(compound, token, actor)
    now = now or utcnow()
    claimed = db.session.execute(
        sa.update(FundImportPreview)
        .where(FundImportPreview.id == row.id, FundImportPreview.imported_at.is_(None),
               FundImportPreview.expires_at > now)
        .values(imported_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        db.session.refresh(row)
        if row.imported_at is not None:
            raise AlreadyImported()
        raise DomainError(N_("This preview has expired. Choose the file again."))
    homes = set(db.session.scalars(sa.select(Dwelling.id).where(
        Dwelling.compound_id == compound.id)))
    rows = [tuple(r) for r in json.loads(row.rows) if r[0] in homes]
    summary = _apply_fund_rows(compound, rows, actor)
    db.session.add(AccessLog(user_id=actor.id, compound_id=compound.id,
                             action="fund_import",
                             target=f"{len(rows)} homes · {row.filename}"[:120]))
    db.session.commit()
    return summary


def _apply_fund_rows(compound: Compound, rows: list[tuple[int, int, int]],
                     actor: User | None) -> FundImport:
    """Write the deposits and balances (in the caller's transaction) with a movement for
    every change."""
    _lock_homes(compound.id)  # no fund payment is confirmed while balances are replaced
    existing = {a.dwelling_id: a for a in db.session.scalars(
        sa.select(FundAccount).where(FundAccount.compound_id == compound.id)
        .execution_options(populate_existing=True))}
    summary = FundImport()
    now = utcnow()
    for dwelling_id, initial, balance in rows:
        account = existing.get(dwelling_id)
        if account is None:
            account = FundAccount(compound_id=compound.id, dwelling_id=dwelling_id,
                                  initial_fen=initial, balance_fen=0)
            db.session.add(account)
            summary.created += 1
        else:
            summary.updated += 1
        change = balance - account.balance_fen
        account.initial_fen, account.balance_fen, account.updated_at = initial, balance, now
        if change or account.id is None:
            db.session.add(FundMovement(dwelling_id=dwelling_id, kind="import",
                                        amount_fen=change, balance_fen=balance,
                                        actor_id=actor.id if actor else None))
    return summary


def _addresses(compound: Compound) -> dict[int, str]:
    """Each home's address as building-unit-room (building-room without units)."""
    return {d: f"{b}-{u}-{r}" if u else f"{b}-{r}" for d, b, u, r in db.session.execute(
        sa.select(Dwelling.id, Building.name, Unit.name, Dwelling.room)
        .join(Unit, Unit.id == Dwelling.unit_id).join(Building)
        .where(Dwelling.compound_id == compound.id))}


@dataclass
class FundSummary:
    accounts: int
    initial_fen: int
    balance_fen: int
    low: int


def fund_summary(compound: Compound) -> FundSummary:
    accounts = list(db.session.execute(sa.select(FundAccount.initial_fen, FundAccount.balance_fen)
                                       .where(FundAccount.compound_id == compound.id)))
    return FundSummary(len(accounts), sum(a[0] for a in accounts), sum(a[1] for a in accounts),
                       sum(rules.fund_is_low(a[1], a[0]) for a in accounts))


# --- community public income ------------------------------------------------------------------

def _positive(amount_fen: int) -> None:
    if not isinstance(amount_fen, int) or not 0 < amount_fen <= MAX_PAYMENT_FEN:
        raise FieldError("amount", N_("The amount must be more than zero."))


def add_income(compound: Compound, actor: User, *, kind: IncomeKind, amount_fen: int,
               occurred_on: date, note: str, today: date | None = None) -> IncomeEntry:
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
    entry = IncomeEntry(compound_id=compound.id, kind=kind, amount_fen=amount_fen,
                        occurred_on=occurred_on, note=note, recorded_by_id=actor.id)
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
    sums = {kind: int(fen or 0) for kind, fen in db.session.execute(
        sa.select(IncomeEntry.kind, sa.func.sum(IncomeEntry.amount_fen))
        .where(IncomeEntry.compound_id == compound_id).group_by(IncomeEntry.kind))}
    used = db.session.scalar(sa.select(sa.func.sum(IncomeUse.amount_fen)).where(
        IncomeUse.compound_id == compound_id)) or 0
    costs = sums.pop(IncomeKind.COST, 0)
    return IncomeBalance(sum(sums.values()), costs, int(used))


def income_ledger(compound: Compound) -> tuple[list[IncomeEntry], list[IncomeUse]]:
    entries = list(db.session.scalars(sa.select(IncomeEntry).where(
        IncomeEntry.compound_id == compound.id)
        .order_by(IncomeEntry.occurred_on.desc(), IncomeEntry.id.desc())))
    uses = list(db.session.scalars(sa.select(IncomeUse).where(
        IncomeUse.compound_id == compound.id).options(selectinload(IncomeUse.item))
        .order_by(IncomeUse.id.desc())))
    return entries, uses


def _lock_compound_ledger(compound: Compound) -> None:
    """One use of public income at a time per compound (the settings row is the lock)."""
    if db.session.get(DuesSettings, compound.id) is None:
        db.session.add(DuesSettings(compound_id=compound.id, fee_rate_fen=DEFAULT_FEE_RATE_FEN))
        db.session.flush()
    lock_rows(DuesSettings.fee_rate_fen, DuesSettings.compound_id == compound.id)


def use_income(compound: Compound, actor: User, *, amount_fen: int, item_id: int | None,
               ballot_id: int | None, note: str, today: date | None = None) -> IncomeUse:
    """Put public income to use, as the owners decided: offset an item's shares by area
    (nobody is credited more than they still owe), or refill the maintenance fund by area."""
    _positive(amount_fen)
    note = (note or "").strip()
    if len(note) > 200:
        raise FieldError("note", N_("The note may be at most 200 characters."))
    if ballot_id not in {b.id for b in passed_ballots(compound)}:
        raise FieldError("ballot", N_("Public income belongs to the owners: choose the passed "
                                      "decision that uses it."))
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
        raise FieldError("amount", N_("Only %(left)s of public income is available."),
                         left=rules_yuan(max(balance.available_fen, 0)))
    use = IncomeUse(compound_id=compound.id, item_id=item_id, amount_fen=amount_fen,
                    ballot_id=ballot_id, note=note, created_by_id=actor.id)
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
    areas = dict(db.session.execute(sa.select(Dwelling.id, Dwelling.area_m2).where(
        Dwelling.compound_id == item.compound_id)).all())
    _lock_item(item.id)
    db.session.refresh(item)  # the version as of the lock
    shares = dict(db.session.execute(sa.select(Allocation.dwelling_id, Allocation.fen).where(
        Allocation.item_id == item.id, Allocation.version == item.version)).all())
    taken: dict[int, int] = defaultdict(int)
    for dwelling_id, fen in db.session.execute(
            sa.select(Payment.dwelling_id, sa.func.sum(Payment.amount_fen))
            .where(Payment.item_id == item.id, Payment.status.in_(OPEN))
            .group_by(Payment.dwelling_id)):
        taken[dwelling_id] = int(fen)
    caps = {d: max(fen - taken[d], 0) for d, fen in shares.items()}
    try:
        credit = rules.allocate_capped(use.amount_fen,
                                       {d: Decimal(areas[d]) for d in caps}, caps)
    except rules.AllocationError as exc:
        db.session.rollback()
        raise FieldError("amount", N_("That is more than the homes still owe on this item "
                                      "(%(left)s)."),
                         left=rules_yuan(sum(caps.values()))) from exc
    db.session.execute(sa.insert(Payment), [
        {"compound_id": item.compound_id, "dwelling_id": d, "item_id": item.id,
         "channel": Channel.PUBLIC_INCOME, "amount_fen": fen, "reference": use.note[:100],
         "status": PaymentStatus.CONFIRMED, "reason": "", "income_use_id": use.id,
         "recorded_by_id": actor.id, "recorded_at": now, "decided_by_id": actor.id,
         "decided_at": now} for d, fen in credit.items() if fen])


def _refill_fund(compound: Compound, use: IncomeUse, actor: User, now: datetime) -> None:
    accounts = {a.dwelling_id: a for a in db.session.scalars(
        sa.select(FundAccount).where(FundAccount.compound_id == compound.id)
        .execution_options(populate_existing=True))}
    if not accounts:
        db.session.rollback()
        raise FieldError("target", N_("Import the maintenance fund balances first."))
    areas = dict(db.session.execute(sa.select(Dwelling.id, Dwelling.area_m2).where(
        Dwelling.id.in_(accounts))).all())
    credit = rules.by_area(use.amount_fen, areas)
    for dwelling_id, fen in credit.items():
        account = accounts[dwelling_id]
        account.balance_fen += fen
        account.updated_at = now
        db.session.add(FundMovement(dwelling_id=dwelling_id, kind="refill", amount_fen=fen,
                                    balance_fen=account.balance_fen, income_use_id=use.id,
                                    actor_id=actor.id))


# --- export ---------------------------------------------------------------------------------

# The export speaks both languages in every cell, like its headers (staff share the file
# with the street office and auditors whatever language their screen is in).
EXPORT_NAMES = {
    Channel.DIRECT: "直接缴费 direct", Channel.PROVIDENT_FUND: "住房公积金 provident fund",
    Channel.MAINTENANCE_FUND: "维修资金 maintenance fund",
    Channel.PUBLIC_INCOME: "公共收益 public income", Channel.HARDSHIP: "困难补助 hardship",
    PaymentStatus.PENDING: "待确认 pending", PaymentStatus.CONFIRMED: "已确认 confirmed",
    PaymentStatus.REJECTED: "已退回 rejected", PaymentStatus.WITHDRAWN: "已撤回 withdrawn",
    IncomeKind.ADS: "广告 ads", IncomeKind.PARKING: "停车 parking",
    IncomeKind.CHARGING: "充电 charging", IncomeKind.KIOSK: "售货亭 kiosk",
    IncomeKind.LOCKER: "快递柜 locker", IncomeKind.OTHER: "其他 other",
    IncomeKind.COST: "成本 cost",
}


def ledger_workbook(compound: Compound, today: date | None = None) -> bytes:
    """The compound's dues ledger as XLSX: payments, public income, fund balances, arrears.
    Every cell is text, never a formula; amounts are yuan with two decimals; every date
    carries its year (2026-11-26), times are Beijing time."""
    def yuan(fen: int) -> str:
        return str(fen_to_yuan(fen))

    def local(moment: datetime | None) -> str:
        return as_utc(moment).astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment \
            else ""

    address = _addresses(compound)
    items = {i.id: i.name for i in db.session.scalars(sa.select(CostItem).where(
        CostItem.compound_id == compound.id))}
    entries, uses = income_ledger(compound)
    sheets = {
        "payments": (["编号 id", "房屋 home", "项目 item", "渠道 channel", "金额 amount (yuan)",
                      "状态 status", "凭证 reference", "原因 reason",
                      "登记 recorded (北京时间 Beijing time)",
                      "处理 decided (北京时间 Beijing time)"],
                     [[p.id, address.get(p.dwelling_id, ""),
                       items.get(p.item_id, "") if p.item_id else "物业费 property fee",
                       EXPORT_NAMES[p.channel], yuan(p.amount_fen), EXPORT_NAMES[p.status],
                       p.reference, p.reason, local(p.recorded_at), local(p.decided_at)]
                      for p in db.session.scalars(sa.select(Payment).where(
                          Payment.compound_id == compound.id).order_by(Payment.id))]),
        "public income": (["日期 date", "类别 kind", "金额 amount (yuan)", "说明 note"],
                          [[e.occurred_on.isoformat(), EXPORT_NAMES[e.kind],
                            yuan(-e.amount_fen if e.kind is IncomeKind.COST else e.amount_fen),
                            e.note] for e in entries]
                          + [[local(u.created_at)[:10], "使用 use",
                              yuan(-u.amount_fen), items.get(u.item_id, "维修资金 fund")
                              + (f" · {u.note}" if u.note else "")]
                             for u in uses]),
        "fund": (["房屋 home", "初始交存 initial (yuan)", "余额 balance (yuan)",
                  "低于30% below 30%"],
                 [[address.get(a.dwelling_id, ""), yuan(a.initial_fen), yuan(a.balance_fen),
                   "是 yes" if rules.fund_is_low(a.balance_fen, a.initial_fen) else ""]
                  for a in db.session.scalars(sa.select(FundAccount).where(
                      FundAccount.compound_id == compound.id).order_by(FundAccount.id))]),
        "arrears": (["楼栋 building", "户数 homes", "欠费户 in arrears", "应付 owed (yuan)",
                     "已付 paid (yuan)", "未付 outstanding (yuan)",
                     "待确认 awaiting confirmation (yuan)", "还需缴纳 still to pay (yuan)"],
                    [[r.building, r.homes, r.homes_in_arrears, yuan(r.share_fen),
                      yuan(r.paid_fen), yuan(r.outstanding_fen), yuan(r.pending_fen),
                      yuan(r.to_pay_fen)]
                     for r in arrears_by_building(compound, today)]),
    }
    return roster_rules.write_tables_xlsx(sheets)
