"""Issue 10 item 13: a small XLSX that unpacks to a lot must be refused in well under a
second, before parsing, on the roster check, the paper-ballot import and the fund import.

The reader refuses archives declaring more than 40 MB unpacked, but a ~120 KB file whose
one sheet honestly unpacks to ~39 MB (rows of 2,000 cells, or a few hundred thousand
one-cell rows) passes that check and is parsed cell by cell: tens of seconds of a worker.
"""

import contextlib
import io
import time

import pytest

from app.accounts.models import Role
from app.core.spreadsheet import SpreadsheetError, read_table
from tests.decisions.conftest import open_ballot
from tests.factories import make_user
from tests.review.bombs import tall, wide, xlsx

LIMIT_SECONDS = 2.0  # generous: the issue asks for "well under a second"


@pytest.fixture(scope="module")
def wide_bomb():
    return xlsx(wide(20_000_000))


def test_the_reader_refuses_a_wide_sheet_quickly(wide_bomb):
    assert len(wide_bomb) < 200_000
    started = time.monotonic()
    with contextlib.suppress(SpreadsheetError):  # 2,000 cells a row read to keep 60
        read_table(wide_bomb, "b.xlsx")
    assert time.monotonic() - started < LIMIT_SECONDS


def test_the_reader_refuses_a_tall_sheet_quickly():
    data = xlsx(tall(20_000_000))
    started = time.monotonic()
    with pytest.raises(SpreadsheetError):
        read_table(data, "b.xlsx")
    assert time.monotonic() - started < LIMIT_SECONDS


@pytest.mark.parametrize("where", ["roster", "fund", "paper"])
def test_each_import_refuses_the_bomb_quickly(where, app, client, sign_in, estate,
                                              wide_bomb, monkeypatch):
    compound = estate.compound
    make_user("13900000001", grants=[(Role.COMMITTEE, compound),
                                     (Role.PROPERTY_MANAGER, compound)])
    if where == "paper":
        from app.decisions import services

        ballot = open_ballot(estate)
        from tests.decisions.conftest import DURING

        monkeypatch.setattr(services, "utcnow", lambda: DURING)
        url, data = f"/staff/ballots/{ballot.id}/paper-import", {}
    elif where == "fund":
        url, data = f"/staff/compounds/{compound.id}/dues/fund", {}
    else:
        url, data = f"/staff/compounds/{compound.id}/roster", {"dry_run": "y"}
    sign_in("13900000001")
    started = time.monotonic()
    response = client.post(url, data={**data, "file": (io.BytesIO(wide_bomb), "b.xlsx")},
                           content_type="multipart/form-data")
    elapsed = time.monotonic() - started
    assert 400 <= response.status_code < 500, response.status_code
    assert elapsed < LIMIT_SECONDS, f"{where}: {elapsed:.1f}s"
