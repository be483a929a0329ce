"""Test (a) of issue 10: the crawl looks for victims' data in every response, but reads
an XLSX download as its zipped bytes, where no name or phone can ever be found. The four
Excel exports (roster, ledger, repairs, votes: the files with the most personal data)
would leak unnoticed. This reproduces the crawl's reading on a real export."""

from app.accounts.models import Role
from tests.conftest import login
from tests.fixtures.factories import make_compound, make_dwelling, make_person, make_user
from tests.security.test_crawl import readable

crawl_body = readable  # exactly how the crawl reads a response before searching it


def test_the_crawl_would_see_a_name_inside_an_excel_export(app, client):
    compound = make_compound()
    make_dwelling(compound, owner=make_person(compound, name="受害人王秀英", phone="13800000009"))
    make_user("13900000001", grants=[(Role.COMMITTEE, compound)])
    assert login(client, "13900000001").status_code == 302
    response = client.get(f"/staff/compounds/{compound.id}/roster.xlsx")
    assert response.status_code == 200
    assert "受害人王秀英" in crawl_body(response), "the crawl cannot see data inside XLSX"
