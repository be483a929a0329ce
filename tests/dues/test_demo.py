"""The demo's dues: items and bearers, fee, fund balances, public income, the resident's bill."""

import sqlalchemy as sa

from app.accounts.models import User
from app.community.models import Compound, Person
from app.dues import bills, costs, fees, funds, public_income
from app.dues.models import Channel, PaymentStatus
from app.extensions import db
from app.portal.demo import load_demo
from app.portal.demo_features import DEMO_RESIDENT_PHONE


def test_demo_dues_go_through_the_services(app):
    load_demo()
    main = db.session.scalar(sa.select(Compound).where(Compound.name == "金源新村"))
    other = db.session.scalar(sa.select(Compound).where(Compound.name == "桂花苑"))
    items = {i["name"]: i for i in costs.allocation_report(main)["items"]}
    elevator = next(i for name, i in items.items() if name.startswith("加装电梯"))
    assert elevator["allocated_fen"] == 40_000_000 and len(elevator["shares"]) == 12
    assert items["一户一表改造"]["bearers"] == {
        "government": 25_200_000,
        "utility": 25_200_000,
        "residents": 0,
    }
    assert items["雨污分流"]["allocated_fen"] == 0
    assert items["外墙保温"]["allocated_fen"] == 94_000_000
    assert sum(s["fen"] > 0 for s in items["更换外窗"]["shares"]) == 6
    assert len(costs.allocation_report(other)["items"]) == 4

    for compound in (main, other):
        assert fees.settings_of(compound.id).fee_rate_fen == 30
        assert fees.settings_of(compound.id).fee_starts_on is not None
        assert public_income.income_balance(compound.id).net_fen > 0
    summary = funds.fund_summary(main)
    assert summary.accounts == 336 and 0 < summary.low < summary.accounts

    person = db.session.scalar(
        sa.select(Person).where(Person.phone == DEMO_RESIDENT_PHONE, Person.compound_id == main.id)
    )
    resident = db.session.scalar(sa.select(User).where(User.phone == DEMO_RESIDENT_PHONE))
    assert person.user_id == resident.id
    bill = bills.bill_for(person.memberships[0].dwelling)
    payments = [p for line in bill.lines for p in line.payments]
    assert {(p.channel, p.status) for p in payments} == {
        (Channel.DIRECT, PaymentStatus.CONFIRMED),
        (Channel.DIRECT, PaymentStatus.PENDING),
    }
    assert len(payments) == 2
    assert bill.fund_low and bill.pending_fen > 0 and bill.paid_fen == 480_000
