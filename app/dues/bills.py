"""What a home owes and how it can pay: bill lines, the channels open to each, the home
summary on the to-do list, arrears by building and the cost split."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa

from app.accounts.models import User
from app.community.models import Compound, Dwelling, Relation
from app.core.errors import N_, NotFound
from app.core.timeutil import local_today
from app.decisions.models import Ballot
from app.dues import rules
from app.dues.fees import FEE, fee_terms, settings_of
from app.dues.funds import fund_decision_passed
from app.dues.models import (
    RESIDENT_CHANNELS,
    Allocation,
    Channel,
    CostItem,
    FundAccount,
    Payment,
    PaymentStatus,
)
from app.dues.rules import Paperwork, Reason
from app.extensions import db

if TYPE_CHECKING:
    from app.dues.fees import FeeTerms


COUNTED = (PaymentStatus.CONFIRMED,)


OPEN = (PaymentStatus.PENDING, PaymentStatus.CONFIRMED)


@dataclass
class ChannelView:
    channel: Channel
    eligible: bool
    max_fen: int
    reason: Reason  # the page explains it (CHANNEL_REASONS)
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
    paperwork: Paperwork = Paperwork.NONE  # the provident-fund statement, on the owner's bill

    @property
    def statement(self) -> bool:
        """The owner can print the statement the provident fund centre asks for."""
        return self.paperwork is Paperwork.STATEMENT

    @property
    def statement_not_yet(self) -> bool:
        """An own-home item whose statement opens after completion acceptance."""
        return self.paperwork is Paperwork.NOT_YET

    @property
    def usable_channels(self) -> list[ChannelView]:
        return [c for c in self.channels if c.eligible]

    @property
    def closed_channels(self) -> list[ChannelView]:
        """The channels that cannot pay now, each with why; the provident fund is left
        out while its statement is not yet open (the page says when it opens instead)."""
        return [
            c
            for c in self.channels
            if not c.eligible
            and not (self.statement_not_yet and c.channel is Channel.PROVIDENT_FUND)
        ]

    def links_statement(self, view: ChannelView) -> bool:
        """The provident-fund channel links to the statement: to pay with it, or to show
        the centre the once-per-home use already made."""
        return (
            self.statement
            and view.channel is Channel.PROVIDENT_FUND
            and (view.eligible or view.reason is Reason.ALREADY_USED)
        )

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
    relation: Relation | None = None  # whose bill: the owner's, the tenants' (None: staff)

    @property
    def fund_shown(self) -> bool:
        """A home's maintenance fund is its owner's: shown on the owner's bill only."""
        return self.fund is not None and self.relation is Relation.OWNER

    @property
    def fund_low(self) -> bool:
        return self.fund is not None and rules.fund_is_low(
            self.fund.balance_fen, self.fund.initial_fen
        )

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
    stmt = (
        sa.select(Allocation.dwelling_id, CostItem, Allocation.fen)
        .join(
            CostItem,
            sa.and_(CostItem.id == Allocation.item_id, CostItem.version == Allocation.version),
        )
        .where(CostItem.compound_id == compound_id)
        .order_by(CostItem.id)
    )
    if dwelling_ids is not None:
        stmt = stmt.where(Allocation.dwelling_id.in_(dwelling_ids))
    return db.session.execute(stmt).all()


def bill_for(
    dwelling: Dwelling, today: date | None = None, *, relation: Relation | None = None
) -> Bill:
    """Everything the home owes, what has been paid, and each channel that can pay.

    Renovation shares and the maintenance fund are the owners' business: a tenant's bill
    (relation=TENANT) holds the property fee only. Staff pass no relation and see all.
    """
    today = today or local_today()
    compound = dwelling.compound
    payments = list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.dwelling_id == dwelling.id)
            .execution_options(populate_existing=True)
            .order_by(Payment.id)
        )
    )
    fund = db.session.scalar(
        sa.select(FundAccount)
        .where(FundAccount.dwelling_id == dwelling.id)
        .execution_options(populate_existing=True)
    )
    provident_used = any(p.channel is Channel.PROVIDENT_FUND and p.status in OPEN for p in payments)
    lines: list[BillLine] = []
    for _, item, fen in current_shares([dwelling.id], compound.id):
        lines.append(BillLine(item.id, item.name, item, fen))
    fee = fee_terms(dwelling, settings_of(compound.id), today)
    if fee.starts_on:
        lines.append(BillLine(FEE, "", None, fee.owed_fen))
    by_key = {line.key: line for line in lines}
    ballots = {
        b.id: b
        for b in db.session.scalars(
            sa.select(Ballot).where(
                Ballot.id.in_(
                    {
                        line.item.fund_ballot_id
                        for line in lines
                        if line.item and line.item.fund_ballot_id
                    }
                )
            )
        )
    }
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
        p.amount_fen
        for p in payments
        if p.channel is Channel.MAINTENANCE_FUND and p.status is PaymentStatus.PENDING
    )
    accepted_now = provident_open(compound, today)
    for line in lines:
        line.channels = _channels(
            line,
            dwelling,
            compound,
            today,
            fund,
            max(fund_free, 0),
            provident_used,
            ballots,
            applied,
        )
        line.paperwork = rules.provident_paperwork(
            own_home_item=bool(line.item and line.item.own_home),
            owner=relation is Relation.OWNER,
            accepted_now=accepted_now,
        )
    return Bill(
        dwelling, lines, fee, fund, provident_used, provident_open=accepted_now, relation=relation
    )


def provident_open(compound: Compound, today: date | None = None) -> bool:
    """The housing provident fund channel and its statement exist only after completion
    acceptance (an acceptance date recorded, and reached)."""
    return rules.accepted(compound.accepted_on, today or local_today())


def _channels(
    line: BillLine,
    dwelling: Dwelling,
    compound: Compound,
    today: date,
    fund: FundAccount | None,
    fund_free: int,
    provident_used: bool,
    ballots: dict,
    applied: dict,
) -> list[ChannelView]:
    open_fen = line.open_fen
    views = [
        ChannelView(
            Channel.DIRECT, open_fen > 0, open_fen, Reason.OK if open_fen else Reason.NOTHING_TO_PAY
        )
    ]
    item = line.item
    if item is not None:
        hardship = applied[(line.key, Channel.HARDSHIP)]
        pf = rules.provident_fund(
            own_home_item=item.own_home,
            accepted_on=compound.accepted_on,
            today=today,
            already_used=provident_used,
            share_fen=line.share_fen,
            subsidy_fen=hardship,
        )
        limit = min(pf.max_fen, open_fen)
        views.append(
            ChannelView(
                Channel.PROVIDENT_FUND,
                pf.eligible and limit > 0,
                limit,
                pf.reason if not pf.eligible or limit else Reason.NOTHING_TO_PAY,
            )
        )
        mf = rules.maintenance_fund(
            balance_fen=fund_free,  # the balance less fund payments awaiting confirmation
            approved_decision=fund_decision_passed(ballots.get(item.fund_ballot_id), dwelling),
            emergency_approved=item.emergency_at is not None,
            owed_fen=open_fen,
        )
        reason = (
            mf.reason
            if mf.eligible or mf.reason is Reason.NO_DECISION
            else (
                Reason.NO_ACCOUNT
                if fund is None
                else Reason.NOTHING_TO_PAY
                if not open_fen
                else Reason.NO_BALANCE
            )
        )
        views.append(ChannelView(Channel.MAINTENANCE_FUND, mf.eligible, mf.max_fen, reason))
    views.append(ChannelView(Channel.PUBLIC_INCOME, False, 0, Reason.BY_DECISION))
    views.append(ChannelView(Channel.HARDSHIP, False, 0, Reason.COMMITTEE))
    for view in views:
        view.applied_fen = applied[(line.key, view.channel)]
    return views


CHANNEL_REFUSALS = {
    Reason.NOT_OWN_HOME: N_(
        "The housing provident fund pays only for your own home's works, "
        "such as the elevator share or windows."
    ),
    Reason.BEFORE_ACCEPTANCE: N_(
        "The housing provident fund can be used only after the works pass completion acceptance."
    ),
    Reason.ALREADY_USED: N_("This home has already used the housing provident fund once."),
    Reason.NO_DECISION: N_(
        "The maintenance fund can pay this only after the owners approve "
        "using it (or the committee approves an emergency)."
    ),
    Reason.NO_ACCOUNT: N_("There is no maintenance fund balance on record for this home."),
    Reason.NO_BALANCE: N_("This home's maintenance fund balance is used up."),
    Reason.NOTHING_TO_PAY: N_("Nothing is left to pay on this item."),
}


def payable_channels(line: BillLine, relation: Relation | None) -> list[ChannelView]:
    """The channels a resident may record a payment by now: eligible, of the resident
    kind, and the owners' funds only for an owner."""
    return [
        c
        for c in line.channels
        if c.channel in RESIDENT_CHANNELS
        and c.eligible
        and (c.channel is Channel.DIRECT or relation is Relation.OWNER)
    ]


def details_visible(payment: Payment, user: User, relation: Relation | None) -> bool:
    """A payment's reference, reason and photo are its payer's. The committee's notes on
    renovation items (public income, hardship) are the owners'; a note on the property
    fee may concern a tenant household, so it stays with staff."""
    return rules.payment_details_visible(
        recorded_it=payment.recorded_by_id == user.id,
        for_item=payment.item_id is not None,
        owner=relation is Relation.OWNER,
        committee_note=payment.channel in (Channel.PUBLIC_INCOME, Channel.HARDSHIP),
    )
