"""What the resident's home page and to-do list show: awaiting confirmation vs still to
pay per home, and rejected payments waiting for the resident, in a few queries."""

from contextlib import contextmanager

import sqlalchemy as sa

from app.community.models import Occupancy, Relation
from app.dues import bills, costs, fees, payments, summary
from app.dues.fees import FEE
from app.dues.models import Channel
from app.extensions import db
from tests.dues.conftest import TODAY


def pay(estate, amount, key=None, user=None, home=None, reference="网银 8812"):
    payment, _ = payments.record_payment(
        user or estate.owner,
        home or estate.home,
        key=key or estate.windows.id,
        channel=Channel.DIRECT,
        amount_fen=amount,
        reference=reference,
        photo=None,
        token="",
        upload_dir=None,
        today=TODAY,
    )
    return payment


@contextmanager
def count_queries():
    seen = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def test_awaiting_confirmation_is_not_still_to_pay(estate):
    pay(estate, 100_000)
    [home] = summary.home_dues(estate.owner, today=TODAY)
    bill = bills.bill_for(estate.home, TODAY)
    assert home.dwelling.id == estate.home.id and home.relation is Relation.OWNER
    assert (home.share_fen, home.paid_fen, home.awaiting_fen, home.to_pay_fen) == (
        bill.share_fen,
        bill.paid_fen,
        100_000,
        bill.to_pay_fen,
    )
    assert home.to_pay_fen == 10_886_760 + 400_000 - 100_000
    assert home.needs_action and home.rejected == []


def test_the_same_figures_as_every_bill_with_the_fee_and_a_tenant(estate):
    fees.set_property_fee(estate.compound, rate_yuan="0.30", starts_on=TODAY.replace(month=1))
    pay(estate, 100_000)
    payments.confirm_payment(pay(estate, 50_000), estate.manager, TODAY)
    pay(estate, 1_000, key=FEE, user=estate.tenant, home=estate.rented_home)
    for user, home in ((estate.owner, estate.home), (estate.tenant, estate.rented_home)):
        [dues] = summary.home_dues(user, today=TODAY)
        from app.community.services import relation_of

        bill = bills.bill_for(home, TODAY, relation=relation_of(user, home))
        assert (dues.share_fen, dues.paid_fen, dues.awaiting_fen, dues.to_pay_fen) == (
            bill.share_fen,
            bill.paid_fen,
            bill.awaiting_fen,
            bill.to_pay_fen,
        )
    [tenant] = summary.home_dues(estate.tenant, today=TODAY)
    assert tenant.relation is Relation.TENANT and tenant.awaiting_fen == 1_000
    assert tenant.share_fen == bills.bill_for(estate.rented_home, TODAY).line(FEE).share_fen


def test_a_rejected_payment_waits_for_the_payer_until_recorded_again(estate):
    payment = pay(estate, 100_000)
    payments.reject_payment(payment, estate.manager, "未查到这笔转账")
    [waiting] = summary.rejected_payments_waiting(estate.owner, today=TODAY)
    assert (
        waiting.payment_id,
        waiting.key,
        waiting.item_name,
        waiting.amount_fen,
        waiting.reason,
    ) == (payment.id, estate.windows.id, "更换外窗", 100_000, "未查到这笔转账")
    assert waiting.url_values == {"dwelling_id": estate.home.id, "_anchor": f"payment-{payment.id}"}
    assert waiting.pay_url_values == {"dwelling_id": estate.home.id, "item": estate.windows.id}
    # the reason is the payer's: a co-owner of the home does not get it on their list
    from tests.fixtures.factories import make_person, make_user

    spouse = make_person(estate.compound, "配偶", phone="13800000008")
    db.session.add(
        Occupancy(dwelling_id=estate.home.id, person_id=spouse.id, relation=Relation.OWNER)
    )
    spouse.user_id = make_user("13800000008").id
    db.session.commit()
    assert (
        summary.rejected_payments_waiting(db.session.get(type(estate.owner), spouse.user_id)) == []
    )
    # a withdrawn retry does not count; a payment recorded again does
    retry = pay(estate, 100_000)
    payments.withdraw_payment(estate.owner, retry.id)
    assert len(summary.rejected_payments_waiting(estate.owner, today=TODAY)) == 1
    pay(estate, 100_000)
    assert summary.rejected_payments_waiting(estate.owner, today=TODAY) == []


def test_a_rejected_payment_on_a_line_paid_since_waits_no_more(estate):
    payment = pay(estate, 100_000)
    payments.reject_payment(payment, estate.manager, "金额不对")
    payments.grant_hardship(
        estate.home,
        estate.committee,
        key=estate.windows.id,
        amount_fen=400_000,
        note="居委会决定",
        today=TODAY,
    )
    assert summary.rejected_payments_waiting(estate.owner, today=TODAY) == []


def test_a_handful_of_queries_however_many_homes_and_lines(estate):
    from tests.fixtures.factories import make_dwelling

    person = estate.home.owners[0]
    for room in ("102", "202", "302", "402"):
        make_dwelling(
            estate.compound,
            building="1",
            unit="1",
            room=room,
            floor=int(room[0]),
            area="50.00",
            owner=person,
        )
    for n in range(8):
        costs.add_item(estate.compound, costs.ItemSpec(name=f"项目{n}", total_fen=80_000))
    fees.set_property_fee(estate.compound, rate_yuan="0.30", starts_on=TODAY.replace(month=1))
    for n in range(6):
        payments.reject_payment(pay(estate, 1_000 + n, reference=f"r{n}"), estate.manager, "否")
    from app.community.services import dwellings_of

    homes = dwellings_of(estate.owner)
    assert len(homes) == 5
    db.session.expire_all()
    homes = dwellings_of(estate.owner)
    with count_queries() as seen:
        summaries = summary.home_dues(estate.owner, homes, today=TODAY)
    assert len(summaries) == 5 and all(s.to_pay_fen for s in summaries)
    assert len(seen) <= 4, seen
