"""Residents' dues pages: what I owe, recording a payment, statements, ledgers, access."""

import io
import re

import pytest
import sqlalchemy as sa

from app.core.timeutil import local_today
from app.dues import bills, fees, funds, payments, public_income
from app.dues.models import Channel, IncomeKind, Payment, PaymentStatus
from app.extensions import db
from tests.conftest import zh
from tests.dues.conftest import TODAY, field_error, passed_fund_ballot, refused
from tests.repairs.conftest import jpeg_with_gps


def record(
    client,
    home,
    item,
    amount="1000.00",
    channel="direct",
    reference="网银 001",
    token="t1",
    photo=None,
):
    data = {
        "item": str(item),
        "channel": channel,
        "amount": amount,
        "reference": reference,
        "token": token,
    }
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "receipt.jpg")
    return client.post(f"/dues/{home.id}/pay", data=data, content_type="multipart/form-data")


def test_what_i_owe_shows_each_item_with_channels(client, sign_in, estate):
    sign_in("13800000001")
    start = client.get("/dues")
    assert start.status_code == 302 and start.headers["Location"].endswith(
        f"/dues/{estate.home.id}"
    )
    page = client.get(f"/dues/{estate.home.id}").get_data(as_text=True)
    assert "加装电梯 1幢1单元" in page and "更换外窗" in page
    assert "¥108,867.60" in page  # the elevator share, 10,886,760 fen
    for label in (
        "Direct payment",
        "Housing provident fund",
        "Maintenance fund",
        "Community public income",
        "Hardship subsidy",
    ):
        assert zh(label) in page
    assert (
        zh("Needs an approved owners' decision to use the fund, or a committee-approved emergency.")
        in page
    )
    assert f"/dues/{estate.home.id}/statement/{estate.elevator.id}" in page


def test_nobody_sees_or_pays_another_homes_bill(client, sign_in, estate):
    sign_in("13800000002")  # the neighbour in 1-1-301
    other = estate.home.id
    assert client.get(f"/dues/{other}").status_code == 404
    assert client.get(f"/dues/{other}/pay?item={estate.windows.id}").status_code == 404
    assert record(client, estate.home, estate.windows.id).status_code == 404
    assert client.get(f"/dues/{other}/statement/{estate.elevator.id}").status_code == 404
    assert client.get("/dues/999999").status_code == 404
    assert client.get(f"/dues/{estate.other_home.id}/pay?item=abc").status_code == 404
    assert client.get(f"/dues/{estate.other_home.id}/pay?item=999999").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_staff_do_not_use_the_resident_pages(client, sign_in, estate):
    sign_in("13900000002")
    assert client.get(f"/dues/{estate.home.id}").status_code == 404


def test_record_a_payment_with_a_receipt_photo(client, sign_in, estate):
    sign_in("13800000001")
    form = client.get(f"/dues/{estate.home.id}/pay?item={estate.windows.id}")
    assert form.status_code == 200 and 'name="token"' in form.get_data(as_text=True)
    response = record(
        client,
        estate.home,
        estate.windows.id,
        amount="1,000.50",
        reference="",
        photo=jpeg_with_gps(),
    )
    assert response.status_code == 302
    payment = db.session.scalar(sa.select(Payment))
    assert payment.amount_fen == 100_050 and payment.status is PaymentStatus.PENDING
    page = client.get(f"/dues/{estate.home.id}").get_data(as_text=True)
    assert zh("Awaiting confirmation") in page
    photo = client.get(f"/dues/payments/{payment.id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    client.post("/logout", data={})
    sign_in("13800000002")
    assert client.get(f"/dues/payments/{payment.id}/photo").status_code == 404


def test_a_double_tap_records_one_payment(client, sign_in, estate):
    sign_in("13800000001")
    record(client, estate.home, estate.windows.id, token="same")
    again = record(client, estate.home, estate.windows.id, token="same")
    assert again.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 1
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert zh("This payment was already recorded.") in page


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("12.345", "An amount has at most two decimals (fen), e.g. 1280.50."),
        ("-5", "The amount cannot be negative."),
        ("99999999999999", "That amount is far too large; check the digits."),
        ("十元", None),
        ("", "Enter the amount in yuan, e.g. 1280.50."),
        ("4000.01", None),
    ],
)
def test_bad_amounts_are_refused_with_a_clear_message(client, sign_in, estate, amount, message):
    sign_in("13800000001")
    response = record(client, estate.home, estate.windows.id, amount=amount)
    assert response.status_code == 422
    if message:
        assert refused(response, "amount", message)
    elif amount == "十元":
        assert refused(
            response,
            "amount",
            "“%(text)s” is not an amount in yuan; write e.g. 1280.50.",
            text="十元",
        )
    else:
        assert refused(
            response,
            "amount",
            "That is more than can be paid this way: at most %(max)s.",
            max="¥4,000.00",
        )
    page = response.get_data(as_text=True)
    assert f'value="{amount}"' in page  # what was typed is kept
    assert 'value="网银 001"' in page
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


@pytest.mark.parametrize("amount", ["100元", "100 元", "100块", "¥100", "１００元"])
def test_an_amount_in_yuan_may_carry_its_unit(client, sign_in, estate, amount):
    sign_in("13800000001")
    assert record(client, estate.home, estate.windows.id, amount=amount).status_code == 302
    assert db.session.scalar(sa.select(Payment.amount_fen)) == 10_000


def test_every_mistake_on_the_payment_form_is_shown_at_once(client, sign_in, estate):
    sign_in("13800000001")
    response = record(client, estate.home, estate.windows.id, amount="12.345", reference="")
    assert response.status_code == 422
    assert refused(response, "amount", "An amount has at most two decimals (fen), e.g. 1280.50.")
    assert refused(
        response,
        "reference",
        "Give the transfer or receipt number, or a photo of "
        "the receipt, so the manager can find the payment.",
    )
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    response = record(client, estate.home, estate.windows.id, amount="abc", channel="gold")
    assert refused(response, "channel", "Choose how you paid.")
    assert field_error(response, "amount")
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_a_forged_line_on_the_payment_form_is_404(client, sign_in, estate):
    sign_in("13800000001")
    for item in ("1" * 20, "²", "１", "0", "-1", str(2**31)):
        assert client.get(f"/dues/{estate.home.id}/pay?item={item}").status_code == 404
        assert record(client, estate.home, item).status_code == 404, item
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_the_success_message_stays_in_view(client, sign_in, estate):
    sign_in("13800000001")
    response = record(client, estate.home, estate.windows.id)
    assert response.status_code == 302
    assert "#" not in response.headers["Location"]  # no jump past the message
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        zh(
            "Recorded. The property manager will confirm it; until then it shows as "
            "awaiting confirmation."
        )
        in page
    )


def test_fund_channels_are_refused_until_allowed(client, sign_in, estate):
    sign_in("13800000001")
    response = record(client, estate.home, estate.elevator.id, channel="maintenance_fund")
    assert refused(
        response,
        "channel",
        "The maintenance fund can pay this only after the "
        "owners approve using it (or the committee approves an emergency).",
    )
    response = record(client, estate.home, estate.elevator.id, channel="hardship")
    assert refused(response, "channel", "Choose how you paid.")
    assert db.session.scalar(sa.select(sa.func.count(Payment.id))) == 0


def test_a_tenant_sees_and_pays_only_the_property_fee(client, sign_in, estate):
    fees.set_property_fee(estate.compound, rate_yuan="0.30", starts_on=date_(2026, 1, 1))
    sign_in("13800000003")
    page = client.get(f"/dues/{estate.rented_home.id}").get_data(as_text=True)
    assert zh("Property fee") in page and "更换外窗" not in page
    assert (
        client.get(f"/dues/{estate.rented_home.id}/pay?item={estate.windows.id}").status_code == 404
    )
    assert record(client, estate.rented_home, estate.windows.id).status_code == 404
    form = client.get(f"/dues/{estate.rented_home.id}/pay?item=fee").get_data(as_text=True)
    assert 'value="direct"' in form and 'value="provident_fund"' not in form
    assert record(client, estate.rented_home, "fee", amount="10.00").status_code == 302
    assert (
        client.get(f"/dues/{estate.rented_home.id}/statement/{estate.windows.id}").status_code
        == 404
    )


def test_a_receipt_and_its_details_stay_with_the_payer(client, sign_in, estate, tmp_path):
    from app.community.models import Occupancy, Relation
    from tests.fixtures.factories import make_person, make_user

    # the owner's spouse lives in the same home with an account of their own
    spouse = make_person(estate.compound, "配偶", phone="13800000008")
    db.session.add(
        Occupancy(dwelling_id=estate.home.id, person_id=spouse.id, relation=Relation.OWNER)
    )
    spouse.user_id = make_user("13800000008").id
    db.session.commit()
    payment, _ = payments.record_payment(
        estate.owner,
        estate.home,
        key=estate.windows.id,
        channel=Channel.DIRECT,
        amount_fen=100,
        reference="私人卡号 6222",
        photo=jpeg_with_gps(),
        token="",
        upload_dir=tmp_path,
        today=TODAY,
    )
    sign_in("13800000008")
    page = client.get(f"/dues/{estate.home.id}").get_data(as_text=True)
    assert "¥1.00" in page and "私人卡号" not in page
    assert f"/dues/payments/{payment.id}/photo" not in page
    assert client.get(f"/dues/payments/{payment.id}/photo").status_code == 404


def test_withdraw_a_pending_payment_only_my_own(client, sign_in, estate):
    payment, _ = payments.record_payment(
        estate.owner,
        estate.home,
        key=estate.windows.id,
        channel=Channel.DIRECT,
        amount_fen=100,
        reference="x",
        photo=None,
        token="",
        upload_dir=None,
        today=TODAY,
    )
    sign_in("13800000002")
    assert client.post(f"/dues/payments/{payment.id}/withdraw", data={}).status_code == 404
    client.post("/logout", data={})
    sign_in("13800000001")
    assert client.post(f"/dues/payments/{payment.id}/withdraw", data={}).status_code == 302
    db.session.refresh(payment)
    assert payment.status is PaymentStatus.WITHDRAWN and payment.reason == ""
    page = client.get(f"/dues/{estate.home.id}").get_data(as_text=True)
    assert 'class="tag status-withdrawn">' + zh("Withdrawn") in page
    assert zh("Rejected") not in page
    again = client.post(f"/dues/payments/{payment.id}/withdraw", data={}, follow_redirects=True)
    assert zh("Only a payment still waiting for confirmation can be withdrawn.") in again.get_data(
        as_text=True
    )


def test_provident_fund_statement_is_printable(client, sign_in, estate):
    sign_in("13800000001")
    page = client.get(f"/dues/{estate.home.id}/statement/{estate.elevator.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "¥108,867.60" in text
    assert zh("The completion acceptance record of the works") in text
    assert "138" not in re.sub(r"¥[\d,.]+", "", text.split("<main", 1)[1])  # no phone numbers
    from app.dues import costs

    road = costs.add_item(estate.compound, costs.ItemSpec(name="道路", total_fen=70_000))
    assert client.get(f"/dues/{estate.home.id}/statement/{road.id}").status_code == 404


def test_cost_split_and_income_ledger_for_residents_of_the_compound(client, sign_in, estate):
    from datetime import date

    from tests.fixtures.factories import make_compound, make_resident

    public_income.add_income(
        estate.compound,
        estate.manager,
        kind=IncomeKind.PARKING,
        amount_fen=1_200_000,
        occurred_on=date(2026, 10, 31),
        note="10月停车费",
    )
    ballot = passed_fund_ballot(estate.compound)
    public_income.use_income(
        estate.compound,
        estate.committee,
        amount_fen=300_000,
        item_id=estate.windows.id,
        ballot_id=ballot.id,
        note="抵扣外窗",
    )
    sign_in("13800000001")
    page = client.get(f"/c/{estate.compound.id}/costs").get_data(as_text=True)
    assert "¥612,000.00" in page.replace("\u00a0", "")  # elevator 600,000 + windows 12,000
    assert zh("Residents") in page
    income = client.get(f"/c/{estate.compound.id}/income").get_data(as_text=True)
    assert "10月停车费" in income and "¥9,000.00" in income  # available after the use
    client.post("/logout", data={})
    other = make_compound("金源新村")
    make_resident(other, "13800000009")
    sign_in("13800000009")
    assert client.get(f"/c/{estate.compound.id}/costs").status_code == 404
    assert client.get(f"/c/{estate.compound.id}/income").status_code == 404


def test_property_fee_line_and_payment(client, sign_in, estate):
    fees.set_property_fee(estate.compound, rate_yuan="0.30", starts_on=date_(2026, 1, 1))
    sign_in("13800000001")
    page = client.get(f"/dues/{estate.home.id}").get_data(as_text=True)
    assert zh("Property fee") in page and "¥0.30" in page
    response = record(client, estate.home, "fee", amount="21.70")
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Payment.item_id)) is None


def date_(*args):
    from datetime import date

    return date(*args)


def test_a_low_maintenance_fund_is_flagged_on_the_bill(client, sign_in, estate):
    from tests.dues.test_ledger import FUND_CSV

    funds.import_fund_balances(estate.compound, FUND_CSV, "fund.csv", actor=None)
    sign_in("13800000001")
    page = client.get(f"/dues/{estate.home.id}")
    assert page.status_code == 200
    assert zh(
        "The balance is below 30%% of the first deposit. The owners may need to top it up."
    ).replace("%%", "%") in page.get_data(as_text=True)


def test_the_home_page_lists_what_is_still_to_pay(client, sign_in, estate):
    sign_in("13800000001")
    page = client.get("/home").get_data(as_text=True)
    assert zh("Still to pay: %(amount)s", amount="¥112,867.60") in page  # 108,867.60 + 4,000
    assert f'href="/dues/{estate.home.id}"' in page


def test_a_tenant_does_not_see_the_owners_fund_balance(client, sign_in, estate):
    csv = "楼栋,单元,房号,初始交存,当前余额\n2,1,101,9000.00,1234.56\n".encode()
    funds.import_fund_balances(estate.compound, csv, "fund.csv", actor=None)
    sign_in("13800000003")
    page = client.get(f"/dues/{estate.rented_home.id}").get_data(as_text=True)
    assert "1,234.56" not in page


def test_a_hardship_note_on_the_fee_is_not_shown_to_the_landlord(client, sign_in, estate):
    from app.community.models import Occupancy, Person, Relation
    from tests.fixtures.factories import make_user

    fees.set_property_fee(estate.compound, rate_yuan="0.30", starts_on=date_(2026, 1, 1))
    landlord = db.session.get(
        Person,
        db.session.scalar(
            sa.select(Occupancy.person_id).where(
                Occupancy.dwelling_id == estate.rented_home.id, Occupancy.relation == Relation.OWNER
            )
        ),
    )
    landlord.phone = "13800000007"
    landlord.user_id = make_user("13800000007").id
    db.session.commit()
    payments.grant_hardship(
        estate.rented_home,
        estate.committee,
        key="fee",
        amount_fen=1000,
        note="租户家庭困难 居委会决定",
        today=TODAY,
    )
    sign_in("13800000007")
    page = client.get(f"/dues/{estate.rented_home.id}").get_data(as_text=True)
    assert "¥10.00" in page and "租户家庭困难" not in page


# --- issue 10: awaiting confirmation, acceptance, full dates, the subsidy ---------------------


def test_a_payment_awaiting_confirmation_is_not_still_to_pay(client, sign_in, estate):
    sign_in("13800000001")
    record(client, estate.home, estate.windows.id, amount="1000.00")
    response = client.get(f"/dues/{estate.home.id}")
    page = response.get_data(as_text=True)
    # windows 4,000 + elevator 108,867.60; 1,000 awaits the manager
    assert (
        zh(
            "%(waiting)s awaiting confirmation, %(left)s still to pay.",
            waiting='<span class="amount">¥1,000.00</span>',
            left='<span class="amount">¥111,867.60</span>',
        )
        in page
    )
    line = page.split(f'id="line-{estate.windows.id}"', 1)[1].split("</section>", 1)[0]
    assert re.search(
        r"<strong>" + zh("Still to pay") + r"</strong></dt><dd><strong>"
        r'<span class="amount">¥3,000.00</span>',
        line,
    )
    bill = bills.bill_for(estate.home, TODAY)
    assert (bill.awaiting_fen, bill.to_pay_fen, bill.outstanding_fen) == (
        100_000,
        11_186_760,
        11_286_760,
    )


def test_homes_list_shows_awaiting_and_still_to_pay(client, sign_in, estate):
    from app.community.models import Occupancy, Relation

    db.session.add(
        Occupancy(
            dwelling_id=estate.other_home.id,
            person_id=estate.home.owners[0].id,
            relation=Relation.OWNER,
        )
    )
    db.session.commit()
    sign_in("13800000001")
    record(client, estate.home, estate.windows.id, amount="1000.00")
    page = client.get("/dues").get_data(as_text=True)
    assert '<span class="amount">¥111,867.60</span>' in page
    assert zh("Awaiting confirmation") in page and "¥1,000.00" in page


def test_before_acceptance_the_provident_fund_is_not_offered(client, sign_in, estate):
    from datetime import timedelta

    estate.compound.accepted_on = None
    db.session.commit()
    sign_in("13800000001")
    url = f"/dues/{estate.home.id}/statement/{estate.elevator.id}"
    page = client.get(f"/dues/{estate.home.id}").get_data(as_text=True)
    assert url not in page
    assert zh("Housing provident fund: not yet available.") in page
    assert (
        zh(
            "The works have not passed completion acceptance yet. It opens once they do; the "
            "statement for the fund centre can be printed from then."
        )
        in page
    )
    form = client.get(f"/dues/{estate.home.id}/pay?item={estate.elevator.id}")
    assert 'value="provident_fund"' not in form.get_data(as_text=True)
    statement = client.get(url)
    text = statement.get_data(as_text=True)
    assert statement.status_code == 200
    assert (
        zh(
            "No statement yet: the housing provident fund can pay only after the works pass "
            "completion acceptance."
        )
        in text
    )
    assert "¥108,867.60" not in text and zh("Owner’s signature") not in text
    # an acceptance date still to come: the same, with the day it opens
    estate.compound.accepted_on = local_today() + timedelta(days=3)
    db.session.commit()
    page = client.get(f"/dues/{estate.home.id}").get_data(as_text=True)
    assert url not in page and zh("Housing provident fund: not yet available.") in page
    assert zh(
        "No statement yet: the housing provident fund can pay only after the works pass "
        "completion acceptance."
    ) in client.get(url).get_data(as_text=True)
    # from the acceptance day on, the statement is there
    estate.compound.accepted_on = local_today()
    db.session.commit()
    assert url in client.get(f"/dues/{estate.home.id}").get_data(as_text=True)
    assert "¥108,867.60" in client.get(url).get_data(as_text=True)


def test_the_statement_prints_full_dates(client, sign_in, estate):
    from app.core.timeutil import local_today

    sign_in("13800000001")
    record(client, estate.home, estate.elevator.id, amount="500.00")
    text = client.get(f"/dues/{estate.home.id}/statement/{estate.elevator.id}").get_data(
        as_text=True
    )
    table = text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert f"{local_today().year}年" in table  # this year's payment still shows its year
    assert "2025年10月30日" in text  # the acceptance date
    assert re.search(rf"{local_today().year}年\d+月\d+日", text.split("<ol>", 1)[1])


def test_the_cost_split_shows_the_elevator_subsidy(client, sign_in, estate):
    sign_in("13800000001")
    page = client.get(f"/c/{estate.compound.id}/costs").get_data(as_text=True)
    elevator = page.split("加装电梯 1幢1单元", 1)[1].split("</section>", 1)[0]
    assert zh("Subsidy per elevator") in elevator
    assert '<span class="amount">−¥200,000.00</span>' in elevator
    assert zh("Residents bear after the subsidy") in elevator
    assert '<span class="amount">¥400,000.00</span>' in elevator
    summary = page.split("<section", 1)[0]
    assert zh("Residents bear after subsidies") in summary
    assert '<span class="amount">¥412,000.00</span>' in summary  # 400,000 + windows 12,000
