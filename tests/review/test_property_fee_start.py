"""The property fee is billed "service first, pay later", for the months served. A property
manager can move the start date back to 2000-01-01 for a compound handed over in 2025 (or
not handed over at all): every home is billed 27 years of fees at once, with no check and
no confirmation page. A sensible range for this date starts no earlier than the handover."""

from datetime import date

from app.accounts.models import Role
from app.dues import bills, fees
from tests.fixtures.factories import make_compound, make_resident, make_user


def test_the_fee_cannot_start_before_the_compound_was_handed_over(app, client, sign_in):
    compound = make_compound(accepted_on=date(2025, 6, 1))
    _user, home = make_resident(compound, "13800000001")
    make_user("13900000002", grants=[(Role.PROPERTY_MANAGER, compound)])
    fees.set_property_fee(compound, rate_yuan="0.30", starts_on=date(2025, 7, 1))
    owed = bills.bill_for(home).line(fees.FEE).share_fen
    sign_in("13900000002")
    response = client.post(
        f"/staff/compounds/{compound.id}/dues/fee", data={"rate": "0.30", "starts_on": "2000-01-01"}
    )
    assert response.status_code in (400, 422), response.status_code
    assert bills.bill_for(home).line(fees.FEE).share_fen == owed
