"""The resident's home lists everything waiting for them (issue 10, item 24)."""

from datetime import timedelta

from app.accounts.models import Role
from app.bookings.models import ClassBooking
from app.core.timeutil import utcnow
from app.dues import payments, summary
from app.dues.models import Channel
from app.extensions import db
from app.repairs import workflow
from app.repairs.models import Ticket
from app.repairs.rules import Action
from tests.conftest import login, zh
from tests.security.world import build_world, jpeg


def test_the_home_lists_votes_notices_payments_repairs_bookings_and_pickups(app, client, tmp_path):
    world = build_world(tmp_path / "uploads")
    side = world.a
    owner = side.owner
    manager = side.staff[Role.PROPERTY_MANAGER]
    payments.withdraw_payment(owner.user, owner.ids["payment_id"][0])
    item_id = world.a.ids["item_id"][0]
    late, _new = payments.record_payment(
        owner.user,
        owner.home,
        key=item_id,
        channel=Channel.DIRECT,
        amount_fen=1000,
        reference="转账",
        photo=None,
        token="late",
        upload_dir=tmp_path / "uploads",
    )
    payments.reject_payment(late, manager, "没有查到这笔转账")
    ticket = db.session.get(Ticket, owner.ids["ticket_id"][0])
    for action in (Action.ACCEPT, Action.START, Action.RESOLVE):
        workflow.staff_act(
            ticket,
            side.staff[Role.CONTRACTOR] if ticket.contractor_id else manager,
            action,
            assignee="李师傅",
            after_photo=jpeg(),
            upload_dir=tmp_path / "uploads",
        )
    booking = db.session.get(ClassBooking, owner.ids["booking_id"][1])
    booking.checked_in_at = utcnow() - timedelta(hours=2)
    booking.picked_up_at = utcnow() - timedelta(hours=1)
    booking.picked_up_by = "外婆"
    db.session.commit()

    assert login(client, owner.user.phone).status_code == 302
    page = client.get("/home").get_data(as_text=True)
    assert zh("Please vote: %(title)s", title="改造意愿征询") in page
    assert zh("Vote coming: %(title)s", title="公示中的表决") in page
    assert zh("Payment not accepted: %(amount)s", amount="¥10.00") in page
    assert "没有查到这笔转账" in page
    assert zh("Is it fixed? %(title)s", title="东门路灯") in page
    assert (
        zh("%(child)s was collected by %(adult)s", child=owner.markers["child"], adult="外婆")
        in page
    )
    assert owner.markers["member"] in page  # the lunch booked for the household
    # The actions come before the news, in this order.
    order = [
        page.index(zh("Please vote: %(title)s", title="改造意愿征询")),
        page.index(zh("Payment not accepted: %(amount)s", amount="¥10.00")),
        page.index(zh("Is it fixed? %(title)s", title="东门路灯")),
        page.index(zh("Coming up")),
    ]
    assert order == sorted(order)


def test_a_payment_awaiting_confirmation_is_not_still_to_pay_on_the_home(app, client, tmp_path):
    world = build_world(tmp_path / "uploads")
    owner = world.a.owner
    assert login(client, owner.user.phone).status_code == 302
    page = client.get("/home").get_data(as_text=True)
    home = summary.home_dues(owner.user)[0]
    assert home.awaiting_fen == 1000
    assert (
        zh(
            "%(waiting)s awaiting confirmation, %(left)s still to pay",
            waiting="¥10.00",
            left=f"¥{home.to_pay_fen / 100:,.2f}",
        )
        in page
    )


def test_a_tenant_reads_the_notice_but_is_not_told_to_vote(app, client, tmp_path):
    world = build_world(tmp_path / "uploads")
    assert login(client, world.a.tenant.user.phone).status_code == 302
    page = client.get("/home").get_data(as_text=True)
    assert zh("Notice: only owners vote; you can read it.") in page
    assert zh("Please vote: %(title)s", title="改造意愿征询") not in page


def test_nothing_waiting_says_so(app, client):
    from tests.fixtures.factories import make_compound, make_resident

    make_resident(make_compound(), "13800000001")
    assert login(client, "13800000001").status_code == 302
    page = client.get("/home").get_data(as_text=True)
    assert (
        zh(
            "Nothing needs your action right now. Votes, bills and bookings will appear "
            "here when your compound starts them."
        )
        in page
    )
