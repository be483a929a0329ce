"""Issue 10 item 19: one shared input filter for control and direction characters.

The request filter cleans form fields and query values, but text that arrives another way
is stored with a right-to-left override (U+202E) intact: names in an imported roster,
proxies in an imported paper-ballot file, and text given to the CLI.
"""

import io
from datetime import timedelta

import sqlalchemy as sa

from app.accounts.models import Role
from app.community import roster_files
from app.community.models import Person
from app.decisions import paper
from app.decisions.models import Ballot, Vote
from app.extensions import db
from tests.decisions.conftest import OPENS, T0, open_ballot, set_clock
from tests.fixtures.factories import make_compound, make_user

RLO = "\u202e"


def test_a_roster_import_strips_direction_overrides_from_names(app):
    compound = make_compound()
    data = (
        f"楼栋,单元,房号,楼层,专有面积,业主姓名,业主手机\n1,1,101,1,60.00,{RLO}英秀王,13800000001\n"
    ).encode()
    roster_files.import_roster(compound, data, "r.csv", actor=None)
    names = db.session.scalars(sa.select(Person.name)).all()
    assert not any(RLO in name for name in names), names


def test_a_paper_ballot_file_strips_direction_overrides_from_proxies(app, estate, monkeypatch):
    ballot = open_ballot(estate)
    staff = make_user("13900000001", grants=[(Role.COMMITTEE, estate.compound)])
    data = f"楼栋,单元,房号,选项,委托人\n1,1,201,1,{RLO}子儿的乙\n".encode()
    paper.import_paper(ballot, data, "p.csv", actor=staff, now=OPENS + timedelta(hours=1))
    proxies = db.session.scalars(sa.select(Vote.proxy_name)).all()
    assert proxies and not any(RLO in (p or "") for p in proxies), proxies


def test_the_cli_strips_direction_overrides_from_a_ballot_title(app, runner, estate, monkeypatch):
    set_clock(monkeypatch, lambda: T0)
    result = runner.invoke(
        args=[
            "ballot",
            "create",
            "金源新村",
            "--kind",
            "general",
            "--title",
            f"{RLO}决表",
            "--opens",
            "2026-12-16 09:00",
            "--closes",
            "2026-12-26 09:00",
        ]
    )
    assert result.exit_code == 0, result.output
    titles = db.session.scalars(sa.select(Ballot.title)).all()
    assert not any(RLO in t for t in titles), titles


def test_an_upload_file_name_is_cleaned_before_it_is_stored_and_shown(app, client, sign_in):
    compound = make_compound()
    roster_files.import_roster(
        compound,
        "楼栋,单元,房号,楼层,专有面积,业主姓名,业主手机\n1,1,101,1,60.00,王,13800000001\n".encode(),
        "r.csv",
        actor=None,
    )
    make_user("13900000002", grants=[(Role.PROPERTY_MANAGER, compound)])
    sign_in("13900000002")
    data = "楼栋,单元,房号,初始交存,当前余额\n1,1,101,5000,4000\n".encode()
    response = client.post(
        f"/staff/compounds/{compound.id}/dues/fund",
        data={"file": (io.BytesIO(data), f"{RLO}vsc.exe")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.status_code
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert RLO not in page
