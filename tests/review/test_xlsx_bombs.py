"""Issue 10 item 13: a small XLSX that unpacks to a lot is refused before it is parsed, on
the roster check, the paper-ballot import and the fund import.

A ~120 KB file whose one sheet honestly unpacks to ~20-39 MB (rows of 2,000 cells, or a
few hundred thousand one-cell rows) stays under the archive-size cap, so its cells are
counted in the XML before openpyxl would read them one by one. Speed is not asserted
here (these machines are noisy): that the parser is never reached is.
"""

import io

import openpyxl
import pytest

from app.accounts.models import Role
from app.core.spreadsheet import SpreadsheetError, read_table
from tests.decisions.conftest import open_ballot
from tests.fixtures.factories import make_user
from tests.review.bombs import tall, wide, xlsx


@pytest.fixture
def never_parsed(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the bomb reached the XLSX parser")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


@pytest.fixture(scope="module")
def wide_bomb():
    return xlsx(wide(20_000_000))


def test_the_reader_refuses_a_wide_sheet_before_parsing(wide_bomb, never_parsed):
    assert len(wide_bomb) < 200_000
    with pytest.raises(SpreadsheetError):
        read_table(wide_bomb, "b.xlsx")


def test_the_reader_refuses_a_tall_sheet_before_parsing(never_parsed):
    data = xlsx(tall(20_000_000))
    with pytest.raises(SpreadsheetError):
        read_table(data, "b.xlsx")


@pytest.mark.parametrize("where", ["roster", "fund", "paper"])
def test_each_import_refuses_the_bomb_quickly(
    where, app, client, sign_in, estate, wide_bomb, monkeypatch, never_parsed
):
    compound = estate.compound
    make_user("13900000001", grants=[(Role.COMMITTEE, compound), (Role.PROPERTY_MANAGER, compound)])
    if where == "paper":
        from tests.decisions.conftest import set_clock

        ballot = open_ballot(estate)
        from tests.decisions.conftest import DURING

        set_clock(monkeypatch, lambda: DURING)
        url, data = f"/staff/ballots/{ballot.id}/paper-import", {}
    elif where == "fund":
        url, data = f"/staff/compounds/{compound.id}/dues/fund", {}
    else:
        url, data = f"/staff/compounds/{compound.id}/roster", {"dry_run": "y"}
    sign_in("13900000001")
    response = client.post(
        url,
        data={**data, "file": (io.BytesIO(wide_bomb), "b.xlsx")},
        content_type="multipart/form-data",
    )
    assert 400 <= response.status_code < 500, response.status_code
