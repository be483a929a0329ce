"""Each change of a payment is announced once, inside its transaction (for inboxes, SMS and the
overview): recorded by the resident, withdrawn, confirmed or rejected by the manager.
Double taps and refused changes announce nothing."""

import pytest

from app.core import events
from app.core.errors import DomainError
from app.dues import payments
from app.dues.models import PaymentStatus
from tests.dues.test_ledger import TODAY, pay
from tests.fixtures.events import heard


def test_a_payment_recorded_twice_by_a_double_tap_is_announced_once(estate, tmp_path):
    with heard(events.payment_recorded) as seen:
        payment, _ = pay(estate, tmp_path, 1_000, token="tap")
        again, new = pay(estate, tmp_path, 1_000, token="tap")
    assert again.id == payment.id and not new
    assert seen == [(payment, {"actor": estate.owner}, PaymentStatus.PENDING)]


def test_withdrawing_is_announced_once(estate, tmp_path):
    payment, _ = pay(estate, tmp_path, 1_000)
    with heard(events.payment_withdrawn) as seen:
        payments.withdraw_payment(estate.owner, payment.id)
        with pytest.raises(DomainError):
            payments.withdraw_payment(estate.owner, payment.id)
    assert seen == [(payment, {"actor": estate.owner}, PaymentStatus.WITHDRAWN)]


def test_confirming_is_announced_once(estate, tmp_path):
    payment, _ = pay(estate, tmp_path, 1_000)
    with heard(events.payment_confirmed) as seen:
        assert payments.confirm_payment(payment, estate.manager, TODAY)
        assert not payments.confirm_payment(payment, estate.manager, TODAY)  # a double tap
    assert seen == [(payment, {"actor": estate.manager}, PaymentStatus.CONFIRMED)]


def test_rejecting_is_announced_once_with_the_reason(estate, tmp_path):
    payment, _ = pay(estate, tmp_path, 1_000)
    with heard(events.payment_rejected) as seen:
        assert payments.reject_payment(payment, estate.manager, "没有查到这笔转账")
        assert not payments.reject_payment(payment, estate.manager, "没有查到这笔转账")
    assert seen == [
        (payment, {"actor": estate.manager, "reason": "没有查到这笔转账"}, PaymentStatus.REJECTED)
    ]


def inbox_kinds(user):
    import sqlalchemy as sa

    from app.accounts.models import InboxMessage
    from app.extensions import db

    return sorted(
        db.session.scalars(sa.select(InboxMessage.kind).where(InboxMessage.user_id == user.id))
    )


def test_the_payer_hears_the_decision_and_the_manager_of_the_payment(estate, tmp_path):
    payment, _ = pay(estate, tmp_path, 1_000)
    assert inbox_kinds(estate.manager) == ["payment_waiting"]
    assert inbox_kinds(estate.owner) == []
    payments.reject_payment(payment, estate.manager, "没有查到这笔转账")
    again, _ = pay(estate, tmp_path, 1_000, token="second")
    payments.confirm_payment(again, estate.manager, TODAY)
    assert inbox_kinds(estate.owner) == ["payment_confirmed", "payment_rejected"]
    assert inbox_kinds(estate.manager) == ["payment_waiting", "payment_waiting"]
