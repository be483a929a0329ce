"""Staff dues pages: who sees what, confirming and rejecting, hardship, items, funds, income."""

import io
from dataclasses import dataclass
from fractions import Fraction

import pytest
import sqlalchemy as sa
from markupsafe import escape
from openpyxl import Workbook, load_workbook

from app.accounts.models import Role, User
from app.community.models import Compound, Dwelling
from app.core.timeutil import local_today
from app.dues import bills, costs, fees, funds, payments, public_income
from app.dues.models import (
    Allocation,
    Channel,
    CostItem,
    FundAccount,
    FundMovement,
    IncomeEntry,
    IncomeKind,
    Payment,
    PaymentStatus,
)
from app.extensions import db
from tests.conftest import zh
from tests.dues.conftest import field_error, passed_fund_ballot, refused
from tests.fixtures.factories import make_compound, make_resident, make_user

OWNER, NEIGHBOUR = "13800000001", "13800000002"
MANAGER, COMMITTEE = "13900000002", "13900000001"
ADMIN, OTHER_MANAGER, OTHER_COMMITTEE = "13900000009", "13900000008", "13900000007"


def shows(response, msgid: str, **params) -> bool:
    """The page shows this message (in Chinese, as the default language, HTML-escaped)."""
    return str(escape(zh(msgid) % params)) in response.get_data(as_text=True)


def base(estate) -> str:
    return f"/staff/compounds/{estate.compound.id}/dues"


def pay(estate, amount_fen=500_00, *, key=None, user=None, home=None, tmp_path=None):
    payment, _ = payments.record_payment(
        user or estate.owner,
        home or estate.home,
        key=key or estate.elevator.id,
        channel=Channel.DIRECT,
        amount_fen=amount_fen,
        reference="网银 2026112601",
        photo=None,
        token="",
        upload_dir=tmp_path,
    )
    return payment


@dataclass
class Elsewhere:
    compound: Compound
    resident: User
    home: Dwelling
    item: CostItem
    payment: Payment


@pytest.fixture
def elsewhere(estate, tmp_path) -> Elsewhere:
    """Another compound with its own staff, a home, an item and a pending payment."""
    compound = make_compound("丹桂苑")
    resident, home = make_resident(compound, "13700000001", building="9", unit="1", room="101")
    item = costs.add_item(compound, costs.ItemSpec(name="雨污分流", total_fen=100_000))
    payment, _ = payments.record_payment(
        resident,
        home,
        key=item.id,
        channel=Channel.DIRECT,
        amount_fen=100_00,
        reference="x",
        photo=None,
        token="",
        upload_dir=tmp_path,
    )
    make_user(OTHER_MANAGER, grants=[(Role.PROPERTY_MANAGER, compound)])
    make_user(OTHER_COMMITTEE, grants=[(Role.COMMITTEE, compound)])
    make_user(ADMIN, grants=[(Role.STREET_ADMIN, estate.compound)])
    return Elsewhere(compound, resident, home, item, payment)


def switch(client, sign_in, phone):
    client.post("/logout", data={})
    sign_in(phone)


def pages(estate) -> list[str]:
    url = base(estate)
    return [
        url,
        f"{url}/pending",
        f"{url}/homes/{estate.home.id}",
        f"{url}/items/new",
        f"{url}/items/{estate.elevator.id}",
        f"{url}/income",
        f"{url}/fund",
        f"{url}/ledger.xlsx",
    ]


# --- who may see the pages ---------------------------------------------------------------------


def test_every_page_opens_for_dues_staff_and_is_404_for_others(
    client, sign_in, estate, elsewhere, tmp_path
):
    for phone in (MANAGER, COMMITTEE, ADMIN):
        switch(client, sign_in, phone)
        for url in pages(estate):
            assert client.get(url).status_code == 200, (phone, url)
    for phone in (OWNER, OTHER_MANAGER, OTHER_COMMITTEE):
        switch(client, sign_in, phone)
        for url in pages(estate):
            assert client.get(url).status_code == 404, (phone, url)
    payment = pay(estate, 500_00, tmp_path=tmp_path)
    for phone in (OWNER, OTHER_MANAGER):  # nor can they post
        switch(client, sign_in, phone)
        for action, data in (("confirm", {}), ("reject", {"reason": "x"})):
            assert (
                client.post(f"{base(estate)}/payments/{payment.id}/{action}", data=data).status_code
                == 404
            )
        assert client.post(f"{base(estate)}/items/new", data={}).status_code == 404
        assert client.post(f"{base(estate)}/fee", data={"rate": "1"}).status_code == 404
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.PENDING
    client.post("/logout", data={})
    assert client.get(base(estate)).status_code == 302  # to the sign-in page


def test_staff_overview_has_the_dues_button_for_dues_roles_only(client, sign_in, estate):
    contractor = make_user("13900000005", grants=[(Role.CONTRACTOR, estate.compound)])
    assert contractor
    url = f"/staff/compounds/{estate.compound.id}"
    sign_in(MANAGER)
    assert base(estate) in client.get(url).get_data(as_text=True)
    home = client.get(f"/staff/dwellings/{estate.home.id}").get_data(as_text=True)
    assert f"{base(estate)}/homes/{estate.home.id}" in home
    switch(client, sign_in, "13900000005")
    assert base(estate) not in client.get(url).get_data(as_text=True)


def test_overview_shows_costs_arrears_fund_and_income(client, sign_in, estate, tmp_path):
    pay(estate, 500_00, tmp_path=tmp_path)
    sign_in(MANAGER)
    page = client.get(base(estate))
    text = page.get_data(as_text=True)
    assert "加装电梯 1幢1单元" in text and "更换外窗" in text
    assert f"{base(estate)}/items/{estate.elevator.id}" in text
    assert 'class="card link-card warn" href="' + f"{base(estate)}/pending" in text
    assert f"{base(estate)}/ledger.xlsx" in text
    assert 'name="rate"' in text  # managers set the property fee
    switch(client, sign_in, COMMITTEE)
    assert 'name="rate"' not in client.get(base(estate)).get_data(as_text=True)


# --- property fee ------------------------------------------------------------------------------


def test_property_fee_is_set_and_bad_values_are_messages(client, sign_in, estate):
    sign_in(MANAGER)
    url = f"{base(estate)}/fee"
    response = client.post(url, data={"rate": "0.35", "starts_on": "2026-01-01"})
    assert response.status_code == 302
    settings = fees.settings_of(estate.compound.id)
    assert settings.fee_rate_fen == 35 and settings.fee_starts_on.isoformat() == "2026-01-01"
    for data, field in (
        ({"rate": "0.35", "starts_on": "2026-13-45"}, "starts_on"),
        ({"rate": "abc", "starts_on": ""}, "rate"),
        ({"rate": "0.35", "starts_on": "99999-01-01"}, "starts_on"),
    ):
        page = client.post(url, data=data)
        assert refused(page, field), data
        assert f'value="{data["rate"]}"' in page.get_data(as_text=True)
    both = client.post(url, data={"rate": "abc", "starts_on": "2026-13-45"})
    assert refused(both, "rate") and refused(both, "starts_on")  # all at once
    assert fees.settings_of(estate.compound.id).fee_rate_fen == 35
    switch(client, sign_in, COMMITTEE)
    assert client.post(url, data={"rate": "0.10", "starts_on": ""}).status_code == 404
    assert fees.settings_of(estate.compound.id).fee_rate_fen == 35


def test_a_rate_change_applies_from_its_date(client, sign_in, estate):
    from datetime import date
    from decimal import Decimal

    sign_in(MANAGER)
    url = f"{base(estate)}/fee"
    client.post(url, data={"rate": "0.30", "starts_on": "2026-01-01"})
    page = client.post(
        url,
        data={"rate": "0.40", "starts_on": "2026-01-01", "effective_from": "2099-07-01"},
        follow_redirects=True,
    )
    assert fees.rates_of(estate.compound.id) == [
        (date(2026, 1, 1), Decimal("30")),
        (date(2099, 7, 1), Decimal("40")),
    ]
    assert 'name="effective_from"' in page.get_data(as_text=True)
    bad = client.post(
        url, data={"rate": "0.40", "starts_on": "2026-01-01", "effective_from": "someday"}
    )
    assert refused(bad, "effective_from", "Write the date as year-month-day, e.g. 2026-11-26.")
    past = client.post(
        url, data={"rate": "0.40", "starts_on": "2026-01-01", "effective_from": "2026-02-01"}
    )
    assert refused(past, "effective_from")


# --- pending payments --------------------------------------------------------------------------


def test_pending_payments_are_confirmed_once(client, sign_in, estate, tmp_path):
    payment = pay(estate, 500_00, tmp_path=tmp_path)
    sign_in(MANAGER)
    page = client.get(f"{base(estate)}/pending").get_data(as_text=True)
    assert "网银 2026112601" in page and f"/payments/{payment.id}/confirm" in page
    assert f"/homes/{estate.home.id}" in page
    assert "13800000001" not in page  # no phones
    url = f"{base(estate)}/payments/{payment.id}/confirm"
    first = client.post(url, data={})
    assert first.status_code == 302 and first.headers["Location"].endswith("/pending")
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.CONFIRMED
    decided_at = payment.decided_at
    again = client.post(url, data={}, follow_redirects=True)
    assert shows(again, "This payment was already confirmed.")
    db.session.refresh(payment)
    assert payment.decided_at == decided_at
    assert bills.bill_for(estate.home).line(estate.elevator.id).paid_fen == 500_00
    assert f"/payments/{payment.id}/" not in client.get(f"{base(estate)}/pending").get_data(
        as_text=True
    )


def test_reject_needs_a_reason_and_then_works(client, sign_in, estate, tmp_path):
    payment = pay(estate, 500_00, tmp_path=tmp_path)
    sign_in(MANAGER)
    url = f"{base(estate)}/payments/{payment.id}/reject"
    page = client.post(url, data={"reason": "   "})
    assert refused(page, "reason", "Give the resident a reason (at most 200 characters).")
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.PENDING
    response = client.post(url, data={"reason": "未查到这笔转账", "back": "home"})
    assert response.headers["Location"].endswith(f"/homes/{estate.home.id}")
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.REJECTED and payment.reason == "未查到这笔转账"
    statement = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "未查到这笔转账" in statement


def test_committee_sees_pending_payments_but_cannot_decide(client, sign_in, estate, tmp_path):
    payment = pay(estate, 500_00, tmp_path=tmp_path)
    sign_in(COMMITTEE)
    page = client.get(f"{base(estate)}/pending").get_data(as_text=True)
    assert "网银 2026112601" in page and "/confirm" not in page and "/reject" not in page
    assert client.post(f"{base(estate)}/payments/{payment.id}/confirm", data={}).status_code == 404
    assert (
        client.post(
            f"{base(estate)}/payments/{payment.id}/reject", data={"reason": "x"}
        ).status_code
        == 404
    )
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.PENDING


def test_ids_of_another_compound_are_404(client, sign_in, estate, elsewhere):
    sign_in(MANAGER)
    url = base(estate)
    assert client.post(f"{url}/payments/{elsewhere.payment.id}/confirm", data={}).status_code == 404
    assert (
        client.post(
            f"{url}/payments/{elsewhere.payment.id}/reject", data={"reason": "x"}
        ).status_code
        == 404
    )
    assert client.get(f"{url}/homes/{elsewhere.home.id}").status_code == 404
    assert client.get(f"{url}/items/{elsewhere.item.id}").status_code == 404
    assert (
        client.post(f"{url}/items/{elsewhere.item.id}/change", data={"total": "1"}).status_code
        == 404
    )
    assert client.get(f"{url}/items/999999").status_code == 404
    assert client.get(f"{url}/homes/999999").status_code == 404
    assert client.post(f"{url}/payments/999999/confirm", data={}).status_code == 404
    switch(client, sign_in, COMMITTEE)
    assert (
        client.post(
            f"{url}/homes/{elsewhere.home.id}/hardship",
            data={"item": str(elsewhere.item.id), "amount": "1", "note": "x"},
        ).status_code
        == 404
    )
    assert (
        client.post(f"{url}/items/{elsewhere.item.id}/emergency", data={"note": "x"}).status_code
        == 404
    )
    db.session.refresh(elsewhere.payment)
    assert elsewhere.payment.status is PaymentStatus.PENDING


# --- a home's statement and hardship -----------------------------------------------------------


def test_committee_grants_hardship_and_the_manager_cannot(client, sign_in, estate):
    url = f"{base(estate)}/homes/{estate.home.id}"
    data = {"item": str(estate.windows.id), "amount": "1500", "note": "低保户 居委会11月决定"}
    sign_in(MANAGER)
    assert "/hardship" not in client.get(url).get_data(as_text=True)
    assert client.post(f"{url}/hardship", data=data).status_code == 404
    switch(client, sign_in, COMMITTEE)
    page = client.get(url).get_data(as_text=True)
    assert "/hardship" in page and "加装电梯 1幢1单元" in page
    response = client.post(f"{url}/hardship", data=data)
    assert response.status_code == 302
    line = bills.bill_for(estate.home).line(estate.windows.id)
    assert line.paid_fen == 150_000 and line.channel(Channel.HARDSHIP).applied_fen == 150_000
    # too much, a bad amount, no note: a message, the typed values kept, nothing recorded
    key = estate.windows.id
    for bad, field in (
        ({"amount": "999999"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"note": ""}, "note"),
    ):
        page = client.post(f"{url}/hardship", data=data | bad)
        assert refused(page, f"hs-{field}-{key}"), bad
        assert f'value="{(data | bad)["amount"]}"' in page.get_data(as_text=True)
        assert f'value="{(data | bad)["note"]}"' in page.get_data(as_text=True)
    both = client.post(f"{url}/hardship", data=data | {"amount": "abc", "note": ""})
    assert refused(both, f"hs-amount-{key}") and refused(both, f"hs-note-{key}")
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Payment.id)).where(Payment.channel == Channel.HARDSHIP)
        )
        == 1
    )
    for item in ("nope", "999999", "1" * 20, "²", "１", "0", "-1", str(2**31)):
        assert client.post(f"{url}/hardship", data=data | {"item": item}).status_code == 404


def test_statement_shows_the_fund_and_its_low_warning(client, sign_in, estate):
    db.session.add(
        FundAccount(
            compound_id=estate.compound.id,
            dwelling_id=estate.home.id,
            initial_fen=1_000_000,
            balance_fen=200_000,
        )
    )
    db.session.commit()
    sign_in(COMMITTEE)
    page = client.get(f"{base(estate)}/homes/{estate.home.id}")
    assert shows(page, "Below 30%% of the first deposit: the owners need to top it up.")


# --- cost items --------------------------------------------------------------------------------

ITEM = {
    "name": "雨污分流改造",
    "total": "100000",
    "rule": "area",
    "government": "35",
    "utility": "",
    "city_investment": "",
    "building": "",
    "unit": "",
    "opt_in": "",
    "coefficients": "",
    "subsidy": "",
}


def test_an_item_is_added_and_its_page_lists_every_home(client, sign_in, estate):
    sign_in(COMMITTEE)
    assert client.get(f"{base(estate)}/items/new").status_code == 200
    response = client.post(f"{base(estate)}/items/new", data=ITEM)
    assert response.status_code == 302
    item = db.session.scalar(sa.select(CostItem).where(CostItem.name == "雨污分流改造"))
    assert response.headers["Location"].endswith(f"/items/{item.id}")
    assert item.bearer_fen(costs.Bearer.GOVERNMENT) == 3_500_000
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    homes = db.session.scalar(
        sa.select(sa.func.count(Dwelling.id)).where(Dwelling.compound_id == estate.compound.id)
    )
    assert page.count(f"{base(estate)}/homes/") == homes


def test_opt_in_and_elevator_items_from_the_form(client, sign_in, estate):
    sign_in(MANAGER)
    response = client.post(
        f"{base(estate)}/items/new",
        data=ITEM
        | {
            "name": "换窗二期",
            "total": "8000",
            "government": "",
            "rule": "opt_in",
            "opt_in": "1-1-601，1-1-301, 1-1-601",
            "own_home": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    item = db.session.scalar(sa.select(CostItem).where(CostItem.name == "换窗二期"))
    assert item.own_home
    assert bills.bill_for(estate.home).line(item.id).share_fen == 400_000
    response = client.post(
        f"{base(estate)}/items/new",
        data=ITEM
        | {
            "name": "电梯二号",
            "total": "300000",
            "government": "",
            "rule": "elevator",
            "building": "1",
            "unit": "1",
            "coefficients": "1:0,2:0,3:0.7,4:0.8,5:0.9,6:1",
            "subsidy": "100000",
        },
    )
    assert response.status_code == 302
    item = db.session.scalar(sa.select(CostItem).where(CostItem.name == "电梯二号"))
    assert (
        sum(db.session.scalars(sa.select(Allocation.fen).where(Allocation.item_id == item.id)))
        == 20_000_000
    )


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"total": "12.345"}, "total"),
        ({"total": "-1"}, "total"),
        ({"total": "abc"}, "total"),
        ({"total": ""}, "total"),
        ({"total": "1e999999"}, "total"),
        ({"government": "abc"}, "government"),
        ({"government": "NaN"}, "government"),
        ({"government": "-5"}, "government"),
        ({"government": "101"}, "government"),
        ({"government": "60", "utility": "50"}, "government"),  # over 100 together
        ({"rule": "nonsense"}, "rule"),
        ({"name": ""}, "name"),
        ({"subsidy": "abc"}, "subsidy"),
        ({"building": "99"}, "building"),
        ({"rule": "elevator", "building": "1", "unit": "1"}, "coefficients"),
        ({"rule": "elevator", "building": "1", "unit": "1", "coefficients": "1:x"}, "coefficients"),
        (
            {"rule": "elevator", "building": "1", "unit": "1", "coefficients": "1:0,2:0"},
            "coefficients",
        ),
        ({"rule": "elevator", "building": "1", "unit": ""}, "unit"),
        ({"rule": "opt_in", "opt_in": ""}, "opt_in"),
        ({"rule": "opt_in", "opt_in": "1-1-1-1"}, "opt_in"),
        ({"rule": "opt_in", "opt_in": "1-1-999"}, "opt_in"),
    ],
)
def test_bad_item_inputs_are_messages_and_save_nothing(client, sign_in, estate, bad, field):
    sign_in(MANAGER)
    before = db.session.scalar(sa.select(sa.func.count(CostItem.id)))
    page = client.post(f"{base(estate)}/items/new", data=ITEM | bad)
    assert refused(page, field), field
    text = page.get_data(as_text=True)
    for name, value in bad.items():
        if name != "rule":
            assert str(escape(value)) in text, name  # what was typed is kept
    assert db.session.scalar(sa.select(sa.func.count(CostItem.id))) == before
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Allocation.id)).where(Allocation.item_id > estate.windows.id)
        )
        == 0
    )


def test_item_amount_messages_say_what_is_wrong(client, sign_in, estate):
    sign_in(MANAGER)
    url = f"{base(estate)}/items/new"
    assert shows(
        client.post(url, data=ITEM | {"total": "12.345"}),
        "An amount has at most two decimals (fen), e.g. 1280.50.",
    )
    assert shows(client.post(url, data=ITEM | {"total": "-1"}), "The amount cannot be negative.")
    assert shows(
        client.post(url, data=ITEM | {"government": "60", "utility": "50"}),
        "The bearers' shares add up to more than the total.",
    )


def test_item_page_shows_homes_a_page_at_a_time(client, sign_in, estate, monkeypatch):
    monkeypatch.setattr("app.dues.staff_items.SHARES_PER_PAGE", 4)
    sign_in(COMMITTEE)
    url = f"{base(estate)}/items/{estate.elevator.id}"
    first = client.get(url).get_data(as_text=True)
    assert first.count(f"{base(estate)}/homes/") == 4 and "page=2" in first
    second = client.get(f"{url}?page=2").get_data(as_text=True)
    assert second.count(f"{base(estate)}/homes/") == 2
    assert f"/homes/{estate.home.id}" in second  # 601, the top floor, comes last
    for page in ("abc", "-3", "999"):
        assert client.get(f"{url}?page={page}").status_code == 200


def test_changing_an_item_keeps_history(client, sign_in, estate):
    sign_in(MANAGER)
    url = f"{base(estate)}/items/{estate.windows.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'value="12000.00"' in page
    response = client.post(f"{url}/change", data={"total": "15000", "subsidy": ""})
    assert response.status_code == 302
    db.session.refresh(estate.windows)
    assert estate.windows.version == 2 and estate.windows.total_fen == 1_500_000
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Allocation.id)).where(
                Allocation.item_id == estate.windows.id, Allocation.version == 1
            )
        )
        > 0
    )
    assert bills.bill_for(estate.home).line(estate.windows.id).share_fen == 500_000
    again = client.post(
        f"{url}/change", data={"total": "15000.00", "subsidy": "0"}, follow_redirects=True
    )
    assert shows(again, "Nothing changed.")
    for bad, field in (
        ({"total": "abc"}, "total"),
        ({"total": "15000", "subsidy": "-3"}, "subsidy"),
    ):
        page = client.post(f"{url}/change", data=bad)
        assert refused(page, field)
        assert f'value="{bad["total"]}"' in page.get_data(as_text=True)
    db.session.refresh(estate.windows)
    assert estate.windows.version == 2


def test_fund_gate_is_for_the_committee(client, sign_in, estate):
    ballot = passed_fund_ballot(estate.compound)
    url = f"{base(estate)}/items/{estate.elevator.id}"
    sign_in(MANAGER)
    assert 'name="ballot"' not in client.get(url).get_data(as_text=True)
    assert client.post(f"{url}/fund", data={"ballot": str(ballot.id)}).status_code == 404
    assert client.post(f"{url}/emergency", data={"note": "水泵坏了"}).status_code == 404
    switch(client, sign_in, COMMITTEE)
    assert "使用维修资金更换水泵" in client.get(url).get_data(as_text=True)
    assert client.post(f"{url}/fund", data={"ballot": str(ballot.id)}).status_code == 302
    db.session.refresh(estate.elevator)
    assert estate.elevator.fund_ballot_id == ballot.id
    page = client.post(f"{url}/fund", data={"ballot": "abc"}, follow_redirects=True)
    assert "flash-error" in page.get_data(as_text=True)
    client.post(f"{url}/fund", data={"ballot": ""})
    db.session.refresh(estate.elevator)
    assert estate.elevator.fund_ballot_id is None
    page = client.post(f"{url}/emergency", data={"note": ""})
    assert refused(page, "note", "Say what the emergency is (at most 200 characters).")
    assert client.post(f"{url}/emergency", data={"note": "水管爆裂"}).status_code == 302
    db.session.refresh(estate.elevator)
    assert estate.elevator.emergency_note == "水管爆裂"
    assert "水管爆裂" in client.get(url).get_data(as_text=True)
    client.post(f"{url}/emergency/withdraw", data={})
    db.session.refresh(estate.elevator)
    assert estate.elevator.emergency_at is None


# --- public income -----------------------------------------------------------------------------


def test_income_entries_by_managers_with_clear_messages(client, sign_in, estate):
    url = f"{base(estate)}/income"
    entry = {
        "action": "entry",
        "kind": "parking",
        "amount": "1200.50",
        "occurred_on": "2026-01-05",
        "note": "停车费 1月",
    }
    sign_in(MANAGER)
    assert client.post(url, data=entry).status_code == 302
    assert public_income.income_balance(estate.compound.id).available_fen == 120_050
    for bad, field in (
        ({"amount": "12.345"}, "entry-amount"),
        ({"amount": "abc"}, "entry-amount"),
        ({"amount": ""}, "entry-amount"),
        ({"kind": "gold"}, "kind"),
        ({"occurred_on": "2999-01-01"}, "occurred_on"),
        ({"occurred_on": "yesterday"}, "occurred_on"),
        ({"occurred_on": (local_today().replace(year=2099)).isoformat()}, "occurred_on"),
    ):
        page = client.post(url, data=entry | bad)
        assert refused(page, field), bad
        assert str(escape((entry | bad)["amount"])) in page.get_data(as_text=True)
    assert refused(
        client.post(url, data=entry | {"amount": "abc"}),
        "entry-amount",
        "“%(text)s” is not an amount in yuan; write e.g. 1280.50.",
        text="abc",
    )
    assert client.post(url, data=entry | {"amount": "100元"}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(IncomeEntry.id))) == 2
    assert client.post(url, data=entry | {"action": "other"}).status_code == 404
    switch(client, sign_in, COMMITTEE)
    assert 'value="entry"' not in client.get(url).get_data(as_text=True)
    assert client.post(url, data=entry).status_code == 404


def test_committee_uses_income_by_decision(client, sign_in, estate, elsewhere):
    public_income.add_income(
        estate.compound,
        estate.manager,
        kind=IncomeKind.ADS,
        amount_fen=1_000_000,
        occurred_on=local_today(),
        note="",
    )
    ballot = passed_fund_ballot(estate.compound)
    url = f"{base(estate)}/income"
    use = {
        "action": "use",
        "amount": "3000",
        "target": str(estate.windows.id),
        "ballot": str(ballot.id),
        "note": "业主大会决定抵扣换窗",
    }
    sign_in(MANAGER)
    assert client.post(url, data=use).status_code == 404
    switch(client, sign_in, COMMITTEE)
    for bad, field in (
        ({"ballot": ""}, "ballot"),
        ({"target": ""}, "target"),
        ({"amount": "20000"}, "use-amount"),
        ({"amount": "x"}, "use-amount"),
        ({"ballot": "1" * 20}, "ballot"),
        ({"target": "1" * 20}, "target"),
    ):
        page = client.post(url, data=use | bad)
        assert refused(page, field), bad
    assert client.post(url, data=use | {"target": str(elsewhere.item.id)}).status_code == 404
    assert client.post(url, data=use).status_code == 302
    assert public_income.income_balance(estate.compound.id).available_fen == 700_000
    credited = db.session.scalars(
        sa.select(Payment.amount_fen).where(
            Payment.channel == Channel.PUBLIC_INCOME, Payment.item_id == estate.windows.id
        )
    )
    assert sum(credited) == 300_000  # by area over the three homes that ordered windows


# --- maintenance fund import -------------------------------------------------------------------


def upload(client, url, data: bytes, name: str = "fund.csv", **kwargs):
    return client.post(
        url, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data", **kwargs
    )


def test_fund_import_lists_bad_rows_and_imports_good_files(client, sign_in, estate):
    url = f"{base(estate)}/fund"
    header = ",".join(funds.FUND_HEADER)
    bad = f"{header}\n1,1,601,5000,4000\n1,1,999,5000,4000\n1,1,301,abc,1\n".encode()
    sign_in(MANAGER)
    page = upload(client, url, bad)
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "<td>3</td>" in text and "<td>4</td>" in text and "<td>2</td>" not in text
    assert field_error(page, "file")
    assert db.session.scalar(sa.select(sa.func.count(FundAccount.id))) == 0
    book = Workbook()
    book.active.append(funds.FUND_HEADER)
    book.active.append(["1", "1", "601", "5000", "1000"])
    data = io.BytesIO()
    book.save(data)
    response = upload(client, url, data.getvalue(), "fund.xlsx")
    assert response.status_code == 302 and "/fund/preview/" in response.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(FundAccount.id))) == 0  # not yet
    confirmed = client.post(response.headers["Location"], data={}, follow_redirects=True)
    assert shows(
        confirmed, "Imported: %(created)s new accounts, %(updated)s updated.", created=1, updated=0
    )
    assert funds.fund_summary(estate.compound).low == 1
    for empty in (
        {},
        {"file": (io.BytesIO(b""), "empty.csv")},
        {"file": (io.BytesIO(b"PK\x03\x04garbage"), "x.xlsx")},
    ):
        page = client.post(url, data=empty, content_type="multipart/form-data")
        assert refused(page, "file"), empty
    switch(client, sign_in, COMMITTEE)
    assert 'type="file"' not in client.get(url).get_data(as_text=True)
    assert upload(client, url, bad).status_code == 404


def test_the_roster_export_is_refused_as_a_fund_file(client, sign_in, estate):
    from app.community.roster_files import export_roster
    from app.dues.models import FundImportPreview

    sign_in(MANAGER)
    for fmt in ("xlsx", "csv"):
        roster = export_roster(estate.compound, fmt, actor=None)
        page = upload(client, f"{base(estate)}/fund", roster, f"roster.{fmt}")
        message = field_error(page, "file")
        assert page.status_code == 422, fmt
        assert "初始交存 / initial, 当前余额 / balance" in message  # what is missing
        assert "楼层" in message and "专有面积" in message  # and what was found
    assert db.session.scalar(sa.select(sa.func.count(FundAccount.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(FundImportPreview.id))) == 0


def test_headers_in_english_or_chinese_and_a_headerless_file(client, sign_in, estate):
    sign_in(MANAGER)
    url = f"{base(estate)}/fund"
    english = b"Building,Unit,Room,Initial,Balance\n1,1,601,5000,4000\n"
    assert upload(client, url, english).status_code == 302
    chinese = "单元,楼栋,房号,当前余额,初始交存\n1,1幢,601,4000,5000\n".encode()  # any order
    assert upload(client, url, chinese).status_code == 302
    headerless = b"1,1,601,5000,4000\n1,1,301,8000,8000\n"
    page = upload(client, url, headerless)
    assert refused(page, "file")
    assert "1, 1, 601, 5000, 4000" in field_error(page, "file")  # what was found


def test_the_preview_shows_what_changes_and_imports_on_confirmation(client, sign_in, estate):
    from app.accounts.models import AccessLog

    funds.import_fund_balances(
        estate.compound,
        "楼栋,单元,房号,初始交存,当前余额\n"
        "1,1,601,7233.00,2000.00\n1,1,301,8888.00,8888.00\n".encode(),
        "fund.csv",
        actor=None,
    )
    sign_in(MANAGER)
    csv = (
        "楼栋,单元,房号,初始交存,当前余额\n1,1,601,7233.00,2500.00\n"
        "1,1,301,8888.00,8888.00\n1,1,101,4510.00,4510.00\n"
    ).encode()
    location = upload(client, f"{base(estate)}/fund", csv).headers["Location"]
    page = client.get(location)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    facts = text.split('<dl class="facts card">', 1)[1].split("</dl>", 1)[0]
    assert "<dd>3</dd>" in facts  # homes in the file: one new, one changed, one the same
    assert facts.count("<dd>1</dd>") == 3
    assert "¥16,121.00" in facts and "¥20,631.00" in facts  # deposits before and after
    assert "¥10,888.00" in facts and "¥15,898.00" in facts  # balances before and after
    table = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert "1-1-601" in table and "¥2,000.00" in table and "¥2,500.00" in table
    assert "1-1-101" in table and "1-1-301" not in table
    assert bills.bill_for(estate.home).fund.balance_fen == 200_000  # nothing imported yet
    assert client.post(location, data={}).status_code == 302
    assert bills.bill_for(estate.home).fund.balance_fen == 250_000
    log = db.session.scalar(
        sa.select(AccessLog).where(
            AccessLog.action == "fund_import", AccessLog.user_id == estate.manager.id
        )
    )
    assert log is not None and log.compound_id == estate.compound.id and "3 homes" in log.target
    # a second tap imports nothing more; the preview is gone
    movements = db.session.scalar(sa.select(sa.func.count(FundMovement.id)))
    again = client.post(location, data={}, follow_redirects=True)
    assert shows(again, "These balances were already imported.")
    assert db.session.scalar(sa.select(sa.func.count(FundMovement.id))) == movements
    assert shows(
        client.get(location, follow_redirects=True), "These balances were already imported."
    )
    fund_page = client.get(f"{base(estate)}/fund").get_data(as_text=True)
    assert zh("Homes with a fund account") + "</dt><dd>3</dd>" in fund_page


def test_a_preview_is_the_managers_own_and_expires(client, sign_in, estate, elsewhere):
    from datetime import timedelta

    from app.dues.models import FundImportPreview

    make_user("13900000012", grants=[(Role.PROPERTY_MANAGER, estate.compound)])
    sign_in(MANAGER)
    csv = "楼栋,单元,房号,初始交存,当前余额\n1,1,601,5000,4000\n".encode()
    location = upload(client, f"{base(estate)}/fund", csv).headers["Location"]
    token = location.rsplit("/", 1)[1]
    assert client.get(f"{base(estate)}/fund/preview/{'x' * 40}").status_code == 404
    assert client.get(f"{base(estate)}/fund/preview/{'x' * 90}").status_code == 404
    other = f"/staff/compounds/{elsewhere.compound.id}/dues/fund/preview/{token}"
    assert client.get(other).status_code == 404
    switch(client, sign_in, "13900000012")  # another manager of the compound
    assert client.get(location).status_code == 404
    assert client.post(location, data={}).status_code == 404
    switch(client, sign_in, MANAGER)
    preview = db.session.scalar(
        sa.select(FundImportPreview).where(FundImportPreview.token == token)
    )
    preview.expires_at = preview.expires_at - timedelta(hours=1)
    db.session.commit()
    assert shows(
        client.get(location, follow_redirects=True),
        "This preview has expired. Choose the file again.",
    )
    assert shows(
        client.post(location, data={}, follow_redirects=True),
        "This preview has expired. Choose the file again.",
    )
    assert db.session.scalar(sa.select(sa.func.count(FundAccount.id))) == 0


def test_a_decompression_bomb_is_refused_at_the_fund_import(client, sign_in, estate, monkeypatch):
    import time

    import openpyxl

    from tests.core.test_spreadsheet import bomb

    def never(*args, **kwargs):
        raise AssertionError("the bomb was parsed")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    sign_in(MANAGER)
    data = bomb(64)
    started = time.monotonic()
    page = upload(client, f"{base(estate)}/fund", data, "fund.xlsx")
    assert time.monotonic() - started < 1
    assert refused(page, "file")


# --- export ------------------------------------------------------------------------------------


def test_ledger_download_opens_in_excel(client, sign_in, estate, tmp_path):
    pay(estate, 500_00, tmp_path=tmp_path)
    sign_in(COMMITTEE)
    response = client.get(f"{base(estate)}/ledger.xlsx")
    assert response.status_code == 200
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.isascii()
    assert "%E6%A1%82%E8%8A%B1%E8%8B%91" in disposition  # 桂花苑, encoded
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["payments", "public income", "fund", "arrears"]
    rows = list(book["payments"].iter_rows(values_only=True))
    assert len(rows) == 2 and "1-1-601" in rows[1]


def test_pending_payments_come_a_page_at_a_time(client, sign_in, estate, tmp_path):
    from app.dues import payments
    from app.dues.models import Channel, Payment, PaymentStatus

    for n in range(payments.PENDING_PER_PAGE + 5):
        db.session.add(
            Payment(
                compound_id=estate.compound.id,
                dwelling_id=estate.home.id,
                item_id=estate.windows.id,
                channel=Channel.DIRECT,
                amount_fen=100 + n,
                reference=f"r{n}",
                status=PaymentStatus.PENDING,
            )
        )
    db.session.commit()
    sign_in("13900000002")
    first = client.get(f"/staff/compounds/{estate.compound.id}/dues/pending")
    text = first.get_data(as_text=True)
    assert text.count('/confirm"') == payments.PENDING_PER_PAGE
    assert text.count('/reject"') == payments.PENDING_PER_PAGE  # a link to the confirmation
    last = client.get(f"/staff/compounds/{estate.compound.id}/dues/pending?page=99")
    assert last.get_data(as_text=True).count("/confirm") == 5
    assert (
        client.get(f"/staff/compounds/{estate.compound.id}/dues/pending?page=x").status_code == 200
    )


def test_changing_the_bearers_of_an_item_on_its_page(client, sign_in, estate):
    item = costs.add_item(
        estate.compound,
        costs.ItemSpec(
            name="通信线路迁改",
            total_fen=12_000_000,
            bearers={
                costs.Bearer.UTILITY: Fraction(65, 100),
                costs.Bearer.GOVERNMENT: Fraction(35, 100),
            },
        ),
    )
    sign_in(MANAGER)
    url = f"{base(estate)}/items/{item.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="utility"' in page and 'value="65"' in page and 'value="35"' in page
    # leaving the percentages as shown and changing the total keeps the proportions
    client.post(
        f"{url}/change",
        data={
            "total": "130000.00",
            "subsidy": "0",
            "government": "35",
            "utility": "65",
            "city_investment": "",
        },
    )
    db.session.refresh(item)
    assert (item.version, item.bearer_fen(costs.Bearer.UTILITY)) == (2, 8_450_000)
    # now the government pays it all
    client.post(
        f"{url}/change",
        data={
            "total": "130000.00",
            "subsidy": "0",
            "government": "100",
            "utility": "",
            "city_investment": "",
        },
    )
    db.session.refresh(item)
    assert item.version == 3 and item.bearer_fen(costs.Bearer.GOVERNMENT) == 13_000_000
    assert item.bearer_fen(costs.Bearer.RESIDENTS) == 0
    bad = client.post(
        f"{url}/change",
        data={
            "total": "130000.00",
            "subsidy": "0",
            "government": "80",
            "utility": "30",
            "city_investment": "",
        },
    )
    assert refused(bad, "change-government", "The bearers' shares add up to more than the total.")
    assert 'value="30"' in bad.get_data(as_text=True)


# --- issue 10: confirm before rejecting, awaiting vs still to pay, withdrawn, odd ids --------


def test_rejecting_asks_first_and_says_what_will_happen(client, sign_in, estate, tmp_path):
    payment = pay(estate, 500_00, tmp_path=tmp_path)
    url = f"{base(estate)}/payments/{payment.id}/reject"
    sign_in(MANAGER)
    pending = client.get(f"{base(estate)}/pending").get_data(as_text=True)
    assert f'href="{url}"' in pending and f'action="{url}"' not in pending
    page = client.get(url)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "¥500.00" in text and "网银 2026112601" in text
    assert (
        zh(
            "The resident is told: the rejection and the reason you give here show on "
            "their bill and their home page."
        )
        in text
    )
    assert (
        zh(
            "The amount stays owed: %(amount)s is not counted as paid, and the resident "
            "can record the payment again.",
            amount='<span class="amount">¥500.00</span>',
        )
        in text
    )
    assert 'name="reason"' in text and estate.compound.name in text
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.PENDING  # looking changes nothing
    kept = client.post(url, data={"reason": "x" * 201})
    assert refused(kept, "reason") and 'value="' + "x" * 201 in kept.get_data(as_text=True)
    response = client.post(url, data={"reason": "未查到这笔转账"})
    assert response.status_code == 302
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.REJECTED
    assert 'name="reason"' not in client.get(url).get_data(as_text=True)  # decided already
    home = client.get(f"{base(estate)}/homes/{estate.home.id}").get_data(as_text=True)
    assert f"{url}?back=home" not in home
    switch(client, sign_in, COMMITTEE)
    assert client.get(url).status_code == 404


def test_staff_see_awaiting_confirmation_apart_from_still_to_pay(client, sign_in, estate, tmp_path):
    pay(estate, 500_00, key=estate.windows.id, tmp_path=tmp_path)
    sign_in(MANAGER)
    overview = client.get(base(estate)).get_data(as_text=True)
    assert (
        zh(
            "%(waiting)s awaiting confirmation, %(left)s still to pay",
            waiting='<span class="amount">¥500.00</span>',
            left='<span class="amount">¥407,500.00</span>',
        )
        in overview
    )
    home = client.get(f"{base(estate)}/homes/{estate.home.id}").get_data(as_text=True)
    assert zh("Awaiting confirmation") in home and zh("Still to pay") in home
    assert f"{base(estate)}/payments/" in home and "?back=home" in home


def test_a_withdrawn_payment_shows_as_withdrawn_to_staff(client, sign_in, estate, tmp_path):
    payment = pay(estate, 500_00, tmp_path=tmp_path)
    payments.withdraw_payment(estate.owner, payment.id)
    sign_in(MANAGER)
    page = client.get(f"{base(estate)}/homes/{estate.home.id}").get_data(as_text=True)
    assert zh("Withdrawn by the resident.") in page
    assert 'class="tag status-withdrawn">' + zh("Withdrawn") in page
    assert zh("Rejected") not in page
    reject = client.post(f"{base(estate)}/payments/{payment.id}/reject", data={"reason": "x"})
    assert reject.status_code == 422
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.WITHDRAWN


def test_twenty_digit_ids_in_dues_forms_are_a_clear_4xx(client, sign_in, estate):
    huge = "1" * 20
    sign_in(COMMITTEE)
    url = base(estate)
    assert (
        client.post(
            f"{url}/homes/{estate.home.id}/hardship",
            data={"item": huge, "amount": "1", "note": "x"},
        ).status_code
        == 404
    )
    page = client.post(
        f"{url}/items/{estate.elevator.id}/fund", data={"ballot": huge}, follow_redirects=True
    )
    assert page.status_code == 200 and "flash-error" in page.get_data(as_text=True)
    for bad in ({"target": huge}, {"ballot": huge}):
        data = {"action": "use", "amount": "1", "target": "fund", "ballot": "1", "note": ""}
        assert client.post(f"{url}/income", data=data | bad).status_code == 422
    for path in (
        f"{url}/payments/{huge}/confirm",
        f"{url}/payments/{huge}/reject",
        f"{url}/homes/{huge}",
        f"{url}/items/{huge}",
    ):
        assert client.get(path).status_code in (404, 405)
    assert client.get(f"{url}/items/{estate.elevator.id}?page={huge}").status_code == 200
    assert client.get(f"{url}/pending?page={huge}").status_code == 200
