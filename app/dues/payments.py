"""Payments: recorded by a resident (with a receipt photo), withdrawn, confirmed or
rejected by the manager, hardship grants; the pending list."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.accounts.permissions import Capability
from app.community.models import Compound, Dwelling, Relation, Unit
from app.community.services import relation_of
from app.core import events
from app.core import photos as photo_rules
from app.core.errors import N_, DomainError, NotFound
from app.core.security import form_id
from app.core.timeutil import utcnow
from app.dues.bills import CHANNEL_REFUSALS, bill_for
from app.dues.errors import FieldError
from app.dues.fees import FEE
from app.dues.models import (
    RESIDENT_CHANNELS,
    Channel,
    FundAccount,
    FundMovement,
    Payment,
    PaymentStatus,
)
from app.dues.public_income import _positive
from app.dues.rules import Reason
from app.dues.shared import _lock_dwelling, _lock_item, _remove, rules_yuan
from app.extensions import db


def get_line_key(value: str | None) -> int | str:
    """A bill line's key from a form or query: "fee" or an item id. Anything else (a
    20-digit number, "²", "１") is not a line of any bill: NotFound (404)."""
    if value == FEE:
        return FEE
    item_id = form_id(value)
    if item_id is None:
        raise NotFound()
    return item_id


def check_payment_form(
    channel: Channel | None, reference: str, has_photo: bool
) -> list[FieldError]:
    """What is wrong with a payment form before its amount is checked against the bill
    (all at once, so the resident fixes everything in one go)."""
    problems = []
    if channel not in RESIDENT_CHANNELS:
        problems.append(FieldError("channel", N_("Choose how you paid.")))
    reference = (reference or "").strip()
    if len(reference) > 100:
        problems.append(FieldError("reference", N_("The reference may be at most 100 characters.")))
    elif channel is Channel.DIRECT and not reference and not has_photo:
        problems.append(
            FieldError(
                "reference",
                N_(
                    "Give the transfer or receipt number, or a photo of the receipt, so the "
                    "manager can find the payment."
                ),
            )
        )
    return problems


def record_payment(
    user: User,
    dwelling: Dwelling,
    *,
    key: int | str,
    channel: Channel,
    amount_fen: int,
    reference: str,
    photo: bytes | None,
    token: str,
    upload_dir: Path,
    today: date | None = None,
) -> tuple[Payment, bool]:
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
        raise FieldError(
            "channel", N_("Only the owner can pay from the provident fund or the maintenance fund.")
        )
    reference = (reference or "").strip()
    token = (token or "")[:40] or None
    try:
        stored = photo_rules.process(photo, upload_dir) if photo else None
    except DomainError as exc:
        raise FieldError("photo", exc.message, **exc.params) from exc
    try:
        _lock_dwelling(dwelling.id)
        if token:
            existing = db.session.scalar(
                sa.select(Payment).where(Payment.dwelling_id == dwelling.id, Payment.token == token)
            )
            if existing is not None:
                db.session.rollback()
                _remove(upload_dir, stored)
                return existing, False
        line = bill_for(dwelling, today, relation=relation).line(key)
        view = line.channel(channel)
        if view is None:
            raise FieldError("channel", N_("This channel cannot pay this item."))
        if not view.eligible:
            raise FieldError(
                "channel",
                CHANNEL_REFUSALS.get(view.reason, CHANNEL_REFUSALS[Reason.NOTHING_TO_PAY]),
            )
        if amount_fen > view.max_fen:
            raise FieldError(
                "amount",
                N_("That is more than can be paid this way: at most %(max)s."),
                max=rules_yuan(view.max_fen),
            )
        payment = Payment(
            compound_id=dwelling.compound_id,
            dwelling_id=dwelling.id,
            item_id=key if key != FEE else None,
            channel=channel,
            amount_fen=amount_fen,
            reference=reference,
            photo=stored.name if stored else None,
            token=token,
            recorded_by_id=user.id,
            status=PaymentStatus.PENDING,
        )
        db.session.add(payment)
        db.session.flush()
        events.payment_recorded.send(payment, actor=user)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        _remove(upload_dir, stored)
        raise
    return payment, True


def withdraw_payment(user: User, payment_id: int) -> None:
    """A resident takes back a payment the manager has not decided yet."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.recorded_by_id != user.id:
        raise NotFound()
    _lock_dwelling(payment.dwelling_id)
    db.session.refresh(payment)
    if payment.status is not PaymentStatus.PENDING:
        db.session.rollback()
        raise DomainError(N_("Only a payment still waiting for confirmation can be withdrawn."))
    payment.status = PaymentStatus.WITHDRAWN
    payment.decided_by_id, payment.decided_at = user.id, utcnow()
    db.session.flush()
    events.payment_withdrawn.send(payment, actor=user)
    db.session.commit()


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
        raise DomainError(N_("The resident withdrew this payment: there is nothing to confirm."))
    dwelling = db.session.get(Dwelling, payment.dwelling_id)
    line = bill_for(dwelling, today).line(payment.item_id or FEE)
    if payment.amount_fen > line.outstanding_fen:
        db.session.rollback()
        raise DomainError(
            N_(
                "Confirming this would pay more than is owed (outstanding "
                "%(left)s). Reject it with a reason."
            ),
            left=rules_yuan(line.outstanding_fen),
        )
    if payment.channel is Channel.MAINTENANCE_FUND:
        view = line.channel(Channel.MAINTENANCE_FUND)
        if view is None or view.reason is Reason.NO_DECISION:
            db.session.rollback()
            raise DomainError(CHANNEL_REFUSALS[Reason.NO_DECISION])
        account = db.session.scalar(
            sa.select(FundAccount).where(FundAccount.dwelling_id == dwelling.id).with_for_update()
        )
        if account is None or account.balance_fen < payment.amount_fen:
            db.session.rollback()
            raise DomainError(
                N_("The home's maintenance fund balance is not enough for this payment.")
            )
        account.balance_fen -= payment.amount_fen
        account.updated_at = utcnow()
        db.session.add(
            FundMovement(
                dwelling_id=dwelling.id,
                kind="payment",
                amount_fen=-payment.amount_fen,
                balance_fen=account.balance_fen,
                payment_id=payment.id,
                actor_id=actor.id,
            )
        )
    payment.status = PaymentStatus.CONFIRMED
    payment.decided_by_id, payment.decided_at = actor.id, utcnow()
    db.session.flush()
    events.payment_confirmed.send(payment, actor=actor)
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
        raise DomainError(N_("The resident withdrew this payment: there is nothing to reject."))
    if payment.status is PaymentStatus.CONFIRMED:
        db.session.rollback()
        raise DomainError(N_("This payment is already confirmed and cannot be rejected."))
    payment.status, payment.reason = PaymentStatus.REJECTED, reason
    payment.decided_by_id, payment.decided_at = actor.id, utcnow()
    db.session.flush()
    events.payment_rejected.send(payment, actor=actor, reason=reason)
    db.session.commit()
    return True


def grant_hardship(
    dwelling: Dwelling,
    actor: User,
    *,
    key: int | str,
    amount_fen: int,
    note: str,
    today: date | None = None,
) -> Payment:
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
        raise FieldError(
            "amount",
            N_("That is more than is still open on this item: at most %(max)s."),
            max=rules_yuan(line.open_fen),
        )
    payment = Payment(
        compound_id=dwelling.compound_id,
        dwelling_id=dwelling.id,
        item_id=key if key != FEE else None,
        channel=Channel.HARDSHIP,
        amount_fen=amount_fen,
        reference=note,
        recorded_by_id=actor.id,
        status=PaymentStatus.CONFIRMED,
        decided_by_id=actor.id,
        decided_at=utcnow(),
    )
    db.session.add(payment)
    db.session.commit()
    return payment


PENDING_PER_PAGE = 30


def pending_count(compound: Compound) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Payment.id)).where(
                Payment.compound_id == compound.id, Payment.status == PaymentStatus.PENDING
            )
        )
        or 0
    )


def pending_payments(
    compound: Compound, page: int = 1, per_page: int = PENDING_PER_PAGE
) -> list[Payment]:
    """Payments waiting for a manager, oldest first, a page at a time."""
    return list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.compound_id == compound.id, Payment.status == PaymentStatus.PENDING)
            .options(
                selectinload(Payment.item),
                selectinload(Payment.dwelling)
                .selectinload(Dwelling.unit)
                .selectinload(Unit.building),
            )
            .order_by(Payment.recorded_at, Payment.id)
            .limit(per_page)
            .offset((max(page, 1) - 1) * per_page)
        )
    )


def payment_photo(payment_id: int, user: User) -> Payment:
    """A receipt photo, only for the person who recorded it and the compound's dues staff."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or not payment.photo:
        raise NotFound()
    if payment.recorded_by_id != user.id and not user.can(payment.compound_id, Capability.SEE_DUES):
        raise NotFound()  # a receipt is the payer's: not even others in the home see it
    return payment
