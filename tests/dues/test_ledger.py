"""Bills, channels, payments, funds and public income, exact to the fen."""

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from app.community.models import Dwelling
from app.community.services import RosterRejected
from app.core.errors import DomainError, NotFound
from app.decisions.models import BallotKind
from app.dues import (
    bills,
    costs,
    export,
    fees,
    figures,
    funds,
    payments,
    public_income,
    rules,
    shared,
)
from app.dues.fees import FEE
from app.dues.models import Channel, FundAccount, FundMovement, IncomeKind, Payment, PaymentStatus
from app.dues.rules import Reason
from app.extensions import db
from tests.dues.conftest import ACCEPTED, TODAY, passed_fund_ballot


@pytest.fixture
def upload_dir(tmp_path) -> Path:
    path = tmp_path / "uploads"
    path.mkdir()
    return path


def pay(
    estate,
    upload_dir,
    amount,
    *,
    user=None,
    home=None,
    key=None,
    channel=Channel.DIRECT,
    token="",
    reference="网银 2026112601",
    today=TODAY,
    photo=None,
):
    return payments.record_payment(
        user or estate.owner,
        home or estate.home,
        key=key or estate.elevator.id,
        channel=channel,
        amount_fen=amount,
        reference=reference,
        photo=photo,
        token=token,
        upload_dir=upload_dir,
        today=today,
    )


def share(estate, item, home=None):
    return bills.bill_for(home or estate.home, TODAY).line(item.id).share_fen


def test_bill_lists_each_item_with_its_share_and_channels(estate):
    bill = bills.bill_for(estate.home, TODAY)
    names = [line.name for line in bill.lines]
    assert names == ["加装电梯 1幢1单元", "更换外窗"]
    elevator = bill.line(estate.elevator.id)
    # ¥400,000 after the subsidy over floors 3-6 by coefficient × area; 601 is the top floor
    assert elevator.share_fen == 10_886_760  # 40,000,000 × 72.33 / 265.754 = 10,886,759.9…
    windows = bill.line(estate.windows.id)
    assert windows.share_fen == 400_000  # three homes ordered windows: ¥4,000 each
    direct = elevator.channel(Channel.DIRECT)
    assert direct.eligible and direct.max_fen == elevator.share_fen
    pf = elevator.channel(Channel.PROVIDENT_FUND)
    assert pf.eligible and pf.max_fen == elevator.share_fen and pf.reason is Reason.OK
    mf = elevator.channel(Channel.MAINTENANCE_FUND)
    assert not mf.eligible and mf.reason is Reason.NO_DECISION
    assert bill.outstanding_fen == elevator.share_fen + windows.share_fen


def test_the_ground_floor_owes_nothing_for_the_elevator(estate):
    report = costs.allocation_report(estate.compound)["items"][0]
    by_room = {s["room"]: s["fen"] for s in report["shares"]}
    assert by_room["101"] == by_room["201"] == 0
    assert sum(by_room.values()) == 40_000_000


def test_provident_fund_only_after_acceptance_and_once(estate, upload_dir):
    before = bills.bill_for(estate.home, date(2025, 10, 29)).line(estate.elevator.id)
    assert before.channel(Channel.PROVIDENT_FUND).reason is Reason.BEFORE_ACCEPTANCE
    with pytest.raises(DomainError, match="completion acceptance"):
        pay(estate, upload_dir, 100_00, channel=Channel.PROVIDENT_FUND, today=date(2025, 10, 29))
    pay(estate, upload_dir, 100_00, channel=Channel.PROVIDENT_FUND, today=ACCEPTED)
    bill = bills.bill_for(estate.home, TODAY)
    assert bill.provident_used
    assert (
        bill.line(estate.windows.id).channel(Channel.PROVIDENT_FUND).reason is Reason.ALREADY_USED
    )
    with pytest.raises(DomainError, match="already used"):
        pay(estate, upload_dir, 100_00, key=estate.windows.id, channel=Channel.PROVIDENT_FUND)


def test_provident_fund_is_for_own_home_items_only(estate, upload_dir):
    item = costs.add_item(estate.compound, costs.ItemSpec(name="道路", total_fen=70_000))
    line = bills.bill_for(estate.home, TODAY).line(item.id)
    assert line.channel(Channel.PROVIDENT_FUND).reason is Reason.NOT_OWN_HOME
    with pytest.raises(DomainError, match="own home"):
        pay(estate, upload_dir, 100, key=item.id, channel=Channel.PROVIDENT_FUND)


def test_provident_fund_up_to_the_share_minus_the_subsidy(estate):
    payments.grant_hardship(
        estate.home,
        estate.committee,
        key=estate.windows.id,
        amount_fen=150_000,
        note="低保户 居委会 11月决定",
        today=TODAY,
    )
    line = bills.bill_for(estate.home, TODAY).line(estate.windows.id)
    assert line.paid_fen == 150_000 and line.outstanding_fen == 250_000
    assert line.channel(Channel.PROVIDENT_FUND).max_fen == 250_000
    assert line.channel(Channel.HARDSHIP).applied_fen == 150_000


def test_a_payment_is_pending_until_confirmed(estate, upload_dir):
    payment, new = pay(estate, upload_dir, 1_000_00)
    assert new and payment.status is PaymentStatus.PENDING
    line = bills.bill_for(estate.home, TODAY).line(estate.elevator.id)
    assert line.paid_fen == 0 and line.pending_fen == 1_000_00
    assert line.outstanding_fen == line.share_fen  # pending does not reduce what is owed
    assert payments.confirm_payment(payment, estate.manager, TODAY) is True
    line = bills.bill_for(estate.home, TODAY).line(estate.elevator.id)
    assert line.paid_fen == 1_000_00 and line.outstanding_fen == line.share_fen - 1_000_00


def test_confirming_twice_changes_nothing(estate, upload_dir):
    payment, _ = pay(estate, upload_dir, 500_00)
    assert payments.confirm_payment(payment, estate.manager, TODAY)
    decided_at = payment.decided_at
    assert payments.confirm_payment(payment, estate.manager, TODAY) is False
    db.session.refresh(payment)
    assert payment.decided_at == decided_at
    assert bills.bill_for(estate.home, TODAY).line(estate.elevator.id).paid_fen == 500_00
    with pytest.raises(DomainError, match="already confirmed"):
        payments.reject_payment(payment, estate.manager, "看错了")


def test_a_rejection_needs_a_reason_and_is_shown(estate, upload_dir):
    payment, _ = pay(estate, upload_dir, 500_00)
    with pytest.raises(DomainError, match="reason"):
        payments.reject_payment(payment, estate.manager, "  ")
    assert payments.reject_payment(payment, estate.manager, "未查到这笔转账")
    assert payments.reject_payment(payment, estate.manager, "again") is False
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.REJECTED and payment.reason == "未查到这笔转账"
    with pytest.raises(DomainError, match="rejected"):
        payments.confirm_payment(payment, estate.manager, TODAY)
    line = bills.bill_for(estate.home, TODAY).line(estate.elevator.id)
    assert line.pending_fen == 0 and line.payments == [payment]


def test_overpayment_is_refused_counting_pending_payments(estate, upload_dir):
    owed = share(estate, estate.windows)
    with pytest.raises(DomainError, match="at most ¥4,000.00"):
        pay(estate, upload_dir, owed + 1, key=estate.windows.id)
    pay(estate, upload_dir, 300_000, key=estate.windows.id)
    with pytest.raises(DomainError, match="at most ¥1,000.00"):
        pay(estate, upload_dir, 100_001, key=estate.windows.id)
    pay(estate, upload_dir, 100_000, key=estate.windows.id)
    with pytest.raises(DomainError, match="Nothing is left"):
        pay(estate, upload_dir, 1, key=estate.windows.id)


def test_confirming_is_refused_when_the_item_got_cheaper(estate, upload_dir):
    payment, _ = pay(estate, upload_dir, 400_000, key=estate.windows.id)
    costs.change_item(estate.windows, total_fen=600_000)  # ¥2,000 per home now
    with pytest.raises(DomainError, match="more than is owed"):
        payments.confirm_payment(payment, estate.manager, TODAY)
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.PENDING


def test_an_item_getting_cheaper_after_payment_shows_a_credit(estate, upload_dir):
    payment, _ = pay(estate, upload_dir, 400_000, key=estate.windows.id)
    payments.confirm_payment(payment, estate.manager, TODAY)
    costs.change_item(estate.windows, total_fen=600_000)
    line = bills.bill_for(estate.home, TODAY).line(estate.windows.id)
    assert line.outstanding_fen == 0 and line.credit_fen == 200_000


def test_double_tap_records_one_payment(estate, upload_dir):
    first, new = pay(estate, upload_dir, 100_00, token="tap-1")
    again, new_again = pay(estate, upload_dir, 100_00, token="tap-1")
    assert new and not new_again and again.id == first.id
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1


def test_direct_payment_needs_a_reference_or_a_photo(estate, upload_dir):
    with pytest.raises(DomainError, match="receipt number"):
        pay(estate, upload_dir, 100_00, reference="")


def test_a_receipt_photo_is_stored_without_metadata(estate, upload_dir):
    from tests.repairs.conftest import jpeg_with_gps

    payment, _ = pay(estate, upload_dir, 100_00, reference="", photo=jpeg_with_gps())
    stored = upload_dir / payment.photo
    assert stored.exists() and b"PhoneMaker" not in stored.read_bytes()
    with pytest.raises(DomainError):
        pay(estate, upload_dir, 100_00, photo=b"not a photo", token="x")
    assert len(list(upload_dir.iterdir())) == 1


def test_nobody_pays_another_homes_bill(estate, upload_dir):
    with pytest.raises(NotFound):
        pay(estate, upload_dir, 100_00, user=estate.neighbour)
    with pytest.raises(NotFound):
        pay(estate, upload_dir, 100_00, user=estate.manager)


def test_a_tenants_bill_is_the_property_fee_only(estate, upload_dir):
    from app.community.models import Relation

    fees.set_property_fee(estate.compound, rate_yuan="0.30", starts_on=date(2026, 1, 1))
    bill = bills.bill_for(estate.rented_home, TODAY, relation=Relation.TENANT)
    assert [line.key for line in bill.lines] == [FEE] and bill.fund is None
    with pytest.raises(NotFound):
        pay(
            estate,
            upload_dir,
            100_00,
            user=estate.tenant,
            home=estate.rented_home,
            key=estate.windows.id,
        )
    with pytest.raises(DomainError, match="Only the owner"):
        pay(
            estate,
            upload_dir,
            100,
            user=estate.tenant,
            home=estate.rented_home,
            key=FEE,
            channel=Channel.PROVIDENT_FUND,
        )
    payment, _ = pay(estate, upload_dir, 100, user=estate.tenant, home=estate.rented_home, key=FEE)
    assert payment.status is PaymentStatus.PENDING
    # staff (no relation) see the whole bill of the home
    assert len(bills.bill_for(estate.rented_home, TODAY).lines) == 2


def test_staff_only_decide_their_own_compounds_payments(estate, upload_dir):
    from tests.fixtures.factories import make_compound

    payment, _ = pay(estate, upload_dir, 100_00)
    other = make_compound("金源新村")
    with pytest.raises(NotFound):
        payments.get_payment_for_staff(payment.id, other)
    assert payments.get_payment_for_staff(payment.id, estate.compound) == payment


# --- maintenance fund ---------------------------------------------------------------------

FUND_CSV = (
    "楼栋,单元,房号,初始交存,当前余额\n1,1,601,7233.00,2000.00\n1,1,301,8888.00,8888.00\n"
).encode()


def test_fund_balances_import_and_warn_below_thirty_percent(estate):
    summary = funds.import_fund_balances(estate.compound, FUND_CSV, "fund.csv", actor=None)
    assert (summary.created, summary.updated) == (2, 0)
    bill = bills.bill_for(estate.home, TODAY)
    assert bill.fund.balance_fen == 200_000 and bill.fund_low  # 2000 < 30 % of 7233
    assert not bills.bill_for(estate.other_home, TODAY).fund_low
    again = funds.import_fund_balances(estate.compound, FUND_CSV, "fund.csv", actor=None)
    assert (again.created, again.updated) == (0, 2)
    assert funds.fund_summary(estate.compound).low == 1


def test_fund_import_is_all_or_nothing_with_row_numbers(estate):
    bad = (
        "楼栋,单元,房号,初始交存,当前余额\n1,1,601,7233.00,2000.00\n"
        "1,1,999,1,1\n1,1,301,12.345,abc\n"
    ).encode()
    with pytest.raises(RosterRejected) as caught:
        funds.import_fund_balances(estate.compound, bad, "fund.csv", actor=None)
    assert {p.row for p in caught.value.problems} == {3, 4}
    assert db.session.scalar(sa.select(sa.func.count(FundAccount.id))) == 0


def test_the_fund_pays_only_with_an_approved_decision(estate, upload_dir):
    funds.import_fund_balances(estate.compound, FUND_CSV, "fund.csv", actor=None)
    with pytest.raises(DomainError, match="approve"):
        pay(estate, upload_dir, 100_00, channel=Channel.MAINTENANCE_FUND)
    rejected = passed_fund_ballot(estate.compound, outcome="rejected")
    with pytest.raises(DomainError):
        funds.link_fund_decision(estate.elevator, rejected.id)
    general = passed_fund_ballot(estate.compound, kind=BallotKind.GENERAL)
    with pytest.raises(DomainError):
        funds.link_fund_decision(estate.elevator, general.id)
    ballot = passed_fund_ballot(estate.compound)
    funds.link_fund_decision(estate.elevator, ballot.id)
    line = bills.bill_for(estate.home, TODAY).line(estate.elevator.id)
    assert line.channel(Channel.MAINTENANCE_FUND).max_fen == 200_000
    with pytest.raises(DomainError, match="at most ¥2,000.00"):
        pay(estate, upload_dir, 200_001, channel=Channel.MAINTENANCE_FUND)
    payment, _ = pay(estate, upload_dir, 150_000, channel=Channel.MAINTENANCE_FUND)
    payments.confirm_payment(payment, estate.manager, TODAY)
    account = db.session.scalar(
        sa.select(FundAccount).where(FundAccount.dwelling_id == estate.home.id)
    )
    assert account.balance_fen == 50_000
    movement = db.session.scalars(sa.select(FundMovement).order_by(FundMovement.id.desc())).first()
    assert (movement.kind, movement.amount_fen, movement.payment_id) == (
        "payment",
        -150_000,
        payment.id,
    )


def test_the_fund_balance_is_checked_again_at_confirmation(estate, upload_dir):
    funds.import_fund_balances(estate.compound, FUND_CSV, "fund.csv", actor=None)
    funds.link_fund_decision(estate.elevator, passed_fund_ballot(estate.compound).id)
    payment, _ = pay(estate, upload_dir, 150_000, channel=Channel.MAINTENANCE_FUND)
    lower = FUND_CSV.replace(b"7233.00,2000.00", b"7233.00,1000.00")
    funds.import_fund_balances(estate.compound, lower, "fund.csv", actor=None)
    with pytest.raises(DomainError, match="not enough"):
        payments.confirm_payment(payment, estate.manager, TODAY)


def test_a_committee_emergency_opens_the_fund(estate, upload_dir):
    funds.import_fund_balances(estate.compound, FUND_CSV, "fund.csv", actor=None)
    with pytest.raises(DomainError, match="emergency"):
        funds.approve_emergency(estate.elevator, estate.committee, "")
    funds.approve_emergency(estate.elevator, estate.committee, "电梯困人 抢修")
    payment, _ = pay(estate, upload_dir, 100_00, channel=Channel.MAINTENANCE_FUND)
    funds.withdraw_emergency(estate.elevator)
    with pytest.raises(DomainError, match="approve"):
        payments.confirm_payment(payment, estate.manager, TODAY)


def test_a_fund_decision_of_another_building_does_not_cover_this_home(estate):
    from app.decisions import models
    from app.decisions.models import BallotStatus

    ballot = passed_fund_ballot(estate.compound)
    ballot.scope = models.Scope.BUILDING
    ballot.building_id = estate.rented_home.unit.building_id
    ballot.status = BallotStatus.PUBLISHED
    db.session.commit()
    assert not funds.fund_decision_passed(ballot, estate.home)
    assert funds.fund_decision_passed(ballot, estate.rented_home)


# --- property fee ---------------------------------------------------------------------------


def test_property_fee_from_the_start_date(estate, upload_dir):
    bill = bills.bill_for(estate.home, TODAY)
    with pytest.raises(NotFound):
        bill.line(FEE)  # no start date yet: nothing billed
    fees.set_property_fee(estate.compound, rate_yuan="0.30", starts_on=date(2026, 1, 1))
    bill = bills.bill_for(estate.home, TODAY)
    assert bill.fee.months == 10 and bill.fee.monthly_fen == 2170  # 72.33 m² × ¥0.30
    # (January to October served; November is billed once it has been served)
    fee = bill.line(FEE)
    assert fee.share_fen == 10 * 2170
    assert [c.channel for c in fee.channels] == [
        Channel.DIRECT,
        Channel.PUBLIC_INCOME,
        Channel.HARDSHIP,
    ]
    payment, _ = pay(estate, upload_dir, 2170 * 3, key=FEE)
    payments.confirm_payment(payment, estate.manager, TODAY)
    assert bills.bill_for(estate.home, TODAY).line(FEE).outstanding_fen == 7 * 2170
    for bad in ("abc", "-0.3", "0.30001", "1000"):
        with pytest.raises(DomainError):
            fees.set_property_fee(estate.compound, rate_yuan=bad, starts_on=None)


# --- public income ------------------------------------------------------------------------


def test_public_income_ledger_and_balance(estate):
    public_income.add_income(
        estate.compound,
        estate.manager,
        kind=IncomeKind.PARKING,
        amount_fen=1_200_000,
        occurred_on=date(2026, 10, 31),
        note="10月停车费",
    )
    public_income.add_income(
        estate.compound,
        estate.manager,
        kind=IncomeKind.ADS,
        amount_fen=300_000,
        occurred_on=date(2026, 10, 31),
        note="电梯广告",
    )
    public_income.add_income(
        estate.compound,
        estate.manager,
        kind=IncomeKind.COST,
        amount_fen=200_000,
        occurred_on=date(2026, 10, 31),
        note="道闸电费",
    )
    balance = public_income.income_balance(estate.compound.id)
    assert (balance.income_fen, balance.costs_fen, balance.available_fen) == (
        1_500_000,
        200_000,
        1_300_000,
    )
    with pytest.raises(DomainError, match="future"):
        public_income.add_income(
            estate.compound,
            estate.manager,
            kind=IncomeKind.ADS,
            amount_fen=1,
            occurred_on=date(2099, 1, 1),
            note="",
        )


def test_public_income_offsets_an_item_by_area_never_past_what_is_owed(estate, upload_dir):
    public_income.add_income(
        estate.compound,
        estate.manager,
        kind=IncomeKind.PARKING,
        amount_fen=2_000_000,
        occurred_on=date(2026, 10, 31),
        note="",
    )
    with pytest.raises(DomainError, match="passed decision"):
        public_income.use_income(
            estate.compound,
            estate.committee,
            amount_fen=100,
            ballot_id=None,
            item_id=estate.windows.id,
            note="",
        )
    ballot = passed_fund_ballot(estate.compound, kind=BallotKind.GENERAL)
    paid, _ = pay(estate, upload_dir, 350_000, key=estate.windows.id)
    payments.confirm_payment(paid, estate.manager, TODAY)
    # the windows' three homes still owe 500 + 4000 + 4000 = ¥8,500
    with pytest.raises(DomainError, match="still owe"):
        public_income.use_income(
            estate.compound,
            estate.committee,
            amount_fen=850_001,
            item_id=estate.windows.id,
            ballot_id=ballot.id,
            note="",
        )
    use = public_income.use_income(
        estate.compound,
        estate.committee,
        amount_fen=600_001,
        item_id=estate.windows.id,
        ballot_id=ballot.id,
        note="停车收益抵扣",
    )
    credits = dict(
        db.session.execute(
            sa.select(Payment.dwelling_id, Payment.amount_fen).where(
                Payment.income_use_id == use.id
            )
        ).all()
    )
    assert sum(credits.values()) == 600_001
    assert credits[estate.home.id] == 50_000  # by area 154,330: capped at what 601 owed
    for home in (estate.home, estate.other_home, estate.rented_home):
        line = bills.bill_for(home, TODAY).line(estate.windows.id)
        assert line.paid_fen <= line.share_fen
    assert (
        bills.bill_for(estate.home, TODAY)
        .line(estate.windows.id)
        .channel(Channel.PUBLIC_INCOME)
        .applied_fen
        == 50_000
    )
    assert public_income.income_balance(estate.compound.id).available_fen == 2_000_000 - 600_001
    with pytest.raises(DomainError, match="available"):
        public_income.use_income(
            estate.compound,
            estate.committee,
            amount_fen=1_400_000,
            item_id=None,
            ballot_id=ballot.id,
            note="",
        )


def test_public_income_refills_the_fund_by_area(estate):
    public_income.add_income(
        estate.compound,
        estate.manager,
        kind=IncomeKind.CHARGING,
        amount_fen=100_001,
        occurred_on=date(2026, 10, 31),
        note="",
    )
    ballot = passed_fund_ballot(estate.compound, kind=BallotKind.GENERAL)
    with pytest.raises(DomainError, match="Import"):
        public_income.use_income(
            estate.compound,
            estate.committee,
            amount_fen=100_001,
            item_id=None,
            ballot_id=ballot.id,
            note="",
        )
    funds.import_fund_balances(estate.compound, FUND_CSV, "fund.csv", actor=None)
    public_income.use_income(
        estate.compound,
        estate.committee,
        amount_fen=100_001,
        item_id=None,
        ballot_id=ballot.id,
        note="补充维修资金",
    )
    balances = dict(
        db.session.execute(sa.select(FundAccount.dwelling_id, FundAccount.balance_fen)).all()
    )
    assert balances[estate.home.id] + balances[estate.other_home.id] == 200_000 + 888_800 + 100_001
    assert balances[estate.home.id] == 200_000 + 44_867  # 100,001 × 72.33 / 161.21 = 44,866.9…


# --- staff figures ---------------------------------------------------------------------------


def test_arrears_by_building_and_the_ledger_workbook(estate, upload_dir):
    payment, _ = pay(estate, upload_dir, 400_000, key=estate.windows.id)
    payments.confirm_payment(payment, estate.manager, TODAY)
    pay(estate, upload_dir, 1_000, token="p2")
    rows = {r.building: r for r in figures.arrears_by_building(estate.compound, TODAY)}
    one = rows["1"]
    assert one.homes == 6 and one.share_fen == 40_000_000 + 800_000
    assert one.paid_fen == 400_000 and one.outstanding_fen == 40_400_000
    assert one.pending_fen == 1_000
    assert one.homes_in_arrears == 4  # 301-601 owe for the elevator; 101 and 201 owe nothing
    assert rows["2"].outstanding_fen == 400_000
    book = load_workbook(io.BytesIO(export.ledger_workbook(estate.compound, TODAY)))
    assert book.sheetnames == ["payments", "public income", "fund", "arrears"]
    paid_rows = list(book["payments"].values)
    assert len(paid_rows) == 3 and paid_rows[1][4] == "4000.00"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12.345", "two decimals"),
        ("-5", "negative"),
        ("99999999999999", "far too large"),
        ("1e20", "not an amount"),
        ("1,5", "not an amount"),
        ("abc", "not an amount"),
        ("", "Enter the amount"),
        ("0", "more than zero"),
        ("NaN", "not an amount"),
        ("１２", None),
    ],
)
def test_amounts_are_checked_with_clear_messages(text, message):
    if message is None:
        assert shared.parse_amount(text) == 1200
        return
    with pytest.raises(DomainError, match=message):
        shared.parse_amount(text)


def test_a_file_without_the_fund_headers_is_refused_whole(estate):
    from app.dues.errors import FieldError

    for data in (
        b"1,1,601,7233.00,abc\n1,1,301,8888.00,8888.00\n",  # no header row
        b"1,1,601,7233.00,2000.00\n",
        "楼栋,单元,房号,楼层,专有面积\n1,1,601,6,72.33\n".encode(),
    ):  # a roster
        with pytest.raises(FieldError) as caught:
            funds.import_fund_balances(estate.compound, data, "fund.csv", actor=None)
        assert caught.value.field == "file"
        assert caught.value.params["missing"].endswith("初始交存 / initial, 当前余额 / balance")
    assert db.session.scalar(sa.select(sa.func.count(FundAccount.id))) == 0


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("building,unit,room,initial,balance", "1,1,601,7233,2000"),
        ("楼栋,单元,房号,初始交存,当前余额", "1幢,1单元,601,7233,2000"),
        (",".join(funds.FUND_HEADER), "1,1,601,7233,2000"),  # as the page documents it
        ("房号,当前余额（元）,初始交存（元）,单元,楼栋", "601,2000,7233,1,1"),  # any order
        ("Building,Room,Initial (yuan),Balance (yuan),Unit,备注", "1,601,7233,2000,1,x"),
    ],
)
def test_fund_headers_in_either_language(estate, header, row):
    summary = funds.import_fund_balances(
        estate.compound, f"{header}\n{row}\n".encode(), "f.csv", actor=None
    )
    assert (summary.created, summary.updated) == (1, 0)
    assert bills.bill_for(estate.home, TODAY).fund.balance_fen == 200_000


def test_reimporting_the_same_balances_records_no_movement(estate):
    funds.import_fund_balances(estate.compound, FUND_CSV, "fund.csv", actor=None)
    funds.import_fund_balances(estate.compound, FUND_CSV, "fund.csv", actor=None)
    assert db.session.scalar(sa.select(sa.func.count(FundMovement.id))) == 2


@pytest.mark.parametrize("amount", [0, -500])
def test_staff_amounts_must_be_positive(estate, amount):
    with pytest.raises(DomainError, match="more than zero"):
        public_income.add_income(
            estate.compound,
            estate.manager,
            kind=IncomeKind.ADS,
            amount_fen=amount,
            occurred_on=date(2026, 10, 1),
            note="",
        )
    with pytest.raises(DomainError, match="more than zero"):
        payments.grant_hardship(
            estate.home, estate.committee, key=estate.windows.id, amount_fen=amount, note="低保"
        )
    ballot = passed_fund_ballot(estate.compound, kind=BallotKind.GENERAL)
    with pytest.raises(DomainError, match="more than zero"):
        public_income.use_income(
            estate.compound,
            estate.committee,
            amount_fen=amount,
            item_id=None,
            ballot_id=ballot.id,
            note="",
        )
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_a_new_fee_rate_never_reprices_months_served(estate, upload_dir):
    fees.set_property_fee(
        estate.compound, rate_yuan="0.30", starts_on=date(2026, 1, 1), today=date(2026, 1, 1)
    )
    owed_before = bills.bill_for(estate.home, TODAY).line(FEE).share_fen
    assert owed_before == 10 * 2170
    payment, _ = pay(estate, upload_dir, owed_before, key=FEE)
    payments.confirm_payment(payment, estate.manager, TODAY)
    # the rate goes up today: the ten months served stay at ¥0.30, nothing is owed
    fees.set_property_fee(
        estate.compound, rate_yuan="0.50", starts_on=date(2026, 1, 1), today=TODAY
    )
    line = bills.bill_for(estate.home, TODAY).line(FEE)
    assert line.share_fen == owed_before and line.outstanding_fen == 0
    rows = {r.building: r for r in figures.arrears_by_building(estate.compound, TODAY)}
    assert rows["1"].share_fen - 40_800_000 == sum(
        10 * rules.monthly_fee(Decimal("30"), h.area_m2)
        for h in db.session.scalars(
            sa.select(Dwelling)
            .join(Dwelling.unit)
            .where(Dwelling.compound_id == estate.compound.id)
        )
        if h.unit.building.name == "1"
    )
    # December begins after the change: it is billed at ¥0.50 once served
    later = bills.bill_for(estate.home, date(2027, 1, 1))
    assert later.fee.periods == ((Decimal("30"), 11), (Decimal("50"), 1))
    assert later.line(FEE).share_fen == 11 * 2170 + 3617
    assert later.fee.rate_yuan == "0.50" and not later.fee.one_rate


def test_public_income_is_used_only_by_a_decision_about_it(estate):
    public_income.add_income(
        estate.compound,
        estate.manager,
        kind=IncomeKind.PARKING,
        amount_fen=100_000,
        occurred_on=date(2026, 10, 31),
        note="",
    )
    funds.import_fund_balances(estate.compound, FUND_CSV, "fund.csv", actor=None)
    for kind in (BallotKind.MANAGEMENT_MODE, BallotKind.WILLINGNESS):
        ballot = passed_fund_ballot(estate.compound, kind=kind)
        with pytest.raises(DomainError, match="passed decision"):
            public_income.use_income(
                estate.compound,
                estate.committee,
                amount_fen=100,
                item_id=None,
                ballot_id=ballot.id,
                note="",
            )
    failed = passed_fund_ballot(estate.compound, outcome="rejected", kind=BallotKind.GENERAL)
    with pytest.raises(DomainError, match="passed decision"):
        public_income.use_income(
            estate.compound,
            estate.committee,
            amount_fen=100,
            item_id=None,
            ballot_id=failed.id,
            note="",
        )
    fund_use = passed_fund_ballot(estate.compound)
    public_income.use_income(
        estate.compound,
        estate.committee,
        amount_fen=100,
        item_id=None,
        ballot_id=fund_use.id,
        note="",
    )


def test_a_rejected_or_withdrawn_provident_claim_frees_the_one_use(estate, upload_dir):
    payment, _ = pay(estate, upload_dir, 100_00, channel=Channel.PROVIDENT_FUND)
    payments.reject_payment(payment, estate.manager, "公积金中心未受理")
    again, _ = pay(estate, upload_dir, 100_00, channel=Channel.PROVIDENT_FUND, token="2")
    payments.withdraw_payment(estate.owner, again.id)
    third, _ = pay(estate, upload_dir, 100_00, channel=Channel.PROVIDENT_FUND, token="3")
    payments.confirm_payment(third, estate.manager, TODAY)
    assert bills.bill_for(estate.home, TODAY).provident_used


def test_a_future_rate_waits_and_a_past_one_is_refused(estate):
    fees.set_property_fee(
        estate.compound, rate_yuan="0.30", starts_on=date(2026, 1, 1), today=date(2026, 1, 1)
    )
    fees.set_property_fee(
        estate.compound,
        rate_yuan="0.40",
        starts_on=date(2026, 1, 1),
        effective_from=date(2099, 1, 1),
        today=TODAY,
    )
    assert fees.current_rate(estate.compound.id, TODAY) == Decimal("30")
    # saving the form again as shown (today's rate) adds nothing
    fees.set_property_fee(
        estate.compound, rate_yuan="0.30", starts_on=date(2026, 2, 1), today=TODAY
    )
    assert [r for _, r in fees.rates_of(estate.compound.id)] == [Decimal("30"), Decimal("40")]
    with pytest.raises(DomainError, match="today or a later day"):
        fees.set_property_fee(
            estate.compound,
            rate_yuan="0.50",
            starts_on=date(2026, 1, 1),
            effective_from=date(2026, 2, 1),
            today=TODAY,
        )
    for bad in ("0_30", "1E-999999999", "0.3e1", "101", "0.30001"):
        with pytest.raises(DomainError, match="rate"):
            fees.set_property_fee(estate.compound, rate_yuan=bad, starts_on=None, today=TODAY)


def test_a_building_decision_cannot_spend_the_compounds_income(estate):
    from app.decisions.models import Scope

    public_income.add_income(
        estate.compound,
        estate.manager,
        kind=IncomeKind.PARKING,
        amount_fen=100_000,
        occurred_on=date(2026, 10, 31),
        note="",
    )
    ballot = passed_fund_ballot(estate.compound)
    ballot.scope, ballot.unit_id = Scope.UNIT, estate.home.unit_id
    db.session.commit()
    with pytest.raises(DomainError, match="passed decision"):
        public_income.use_income(
            estate.compound,
            estate.committee,
            amount_fen=100,
            item_id=estate.windows.id,
            ballot_id=ballot.id,
            note="",
        )


def test_a_withdrawn_payment_has_its_own_status(estate, upload_dir):
    payment, _ = pay(estate, upload_dir, 500_00)
    payments.withdraw_payment(estate.owner, payment.id)
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.WITHDRAWN and payment.reason == ""
    with pytest.raises(DomainError, match="withdrew"):
        payments.confirm_payment(payment, estate.manager, TODAY)
    with pytest.raises(DomainError, match="withdrew"):
        payments.reject_payment(payment, estate.manager, "看错了")
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.WITHDRAWN and payment.decided_by_id == estate.owner.id
    line = bills.bill_for(estate.home, TODAY).line(estate.elevator.id)
    assert line.pending_fen == 0 and line.paid_fen == 0
    book = load_workbook(io.BytesIO(export.ledger_workbook(estate.compound, TODAY)))
    row = list(book["payments"].iter_rows(values_only=True))[1]
    assert "已撤回 withdrawn" in row and "已退回 rejected" not in row


def test_the_export_dates_carry_the_year_in_beijing_time(estate, upload_dir):
    from datetime import UTC, datetime

    payment, _ = pay(estate, upload_dir, 500_00)
    payment.recorded_at = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 2027-01-01 01:30 Beijing
    db.session.commit()
    book = load_workbook(io.BytesIO(export.ledger_workbook(estate.compound, TODAY)))
    rows = list(book["payments"].iter_rows(values_only=True))
    assert "2027-01-01 01:30" in rows[1]
