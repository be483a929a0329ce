"""Scanning a sticker without an account: a report marked unverified, a reference number and
a status link without personal data; rate limits; nothing of any resident reachable."""

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import AccessLog
from app.extensions import db
from app.repairs import reports, workflow
from app.repairs.models import Photo, Ticket
from app.repairs.rules import Action, Route, Status
from tests.conftest import zh
from tests.repairs.conftest import jpeg_with_gps

KEY = "0123456789abcdef0123456789abcdef"


def send(client, facility, key=KEY, photo=None, **fields):
    data = {"description": "路灯不亮了，晚上很黑", "request_key": key, **fields}
    if photo is not None:
        data["photos"] = (io.BytesIO(photo), "p.jpg")
    return client.post(f"/f/{facility.sticker_code}", data=data, content_type="multipart/form-data")


def status_link(page: str) -> str:
    """The status link as the page prints it (the full address) and links it."""
    path = re.search(r'href="(/r/[A-Za-z0-9_-]+)"', page).group(1)
    assert f"http://localhost{path}" in page
    return path


def test_anonymous_report_gets_a_reference_and_a_status_link(client, estate):
    response = send(
        client, estate["manhole"], phone="138 1234 5678", consent="y", photo=jpeg_with_gps((40, 30))
    )
    assert response.status_code == 302
    ticket = db.session.scalar(sa.select(Ticket))
    assert (ticket.unverified, ticket.reporter_id, ticket.facility_id) == (
        True,
        None,
        estate["manhole"].id,
    )
    assert ticket.category is estate["manhole"].category and ticket.is_common
    assert ticket.route is Route.CONTRACTOR  # in warranty, like any report of this facility
    assert ticket.contact_phone == "13812345678" and ticket.contact_consent
    assert len(ticket.photos) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"#{ticket.id}" in page
    link = status_link(page)
    assert ticket.status_token_hash and link.split("/")[-1] not in ticket.status_token_hash
    assert f"/login?next=/repairs/{ticket.id}" in page  # sign in to follow, one tap
    status = client.get(link)
    text = status.get_data(as_text=True)
    assert status.status_code == 200 and "3幢北侧窨井" in text
    assert zh("Reported") in text and str(ticket.id) in text
    # No personal data: not the description, the phone or the photo.
    assert "路灯不亮" not in text and "5678" not in text and "/repairs/photos/" not in text
    assert status.headers["Cache-Control"] == "no-store"
    assert status.headers["Referrer-Policy"] == "no-referrer"
    assert client.get(f"/repairs/photos/{ticket.photos[0].id}").status_code == 302  # sign in
    for forged in (link + "x", "/r/" + "A" * 22, "/r/²", "/r/%EF%BC%91"):
        assert client.get(forged).status_code == 404, forged


def test_the_status_link_follows_the_repair(client, estate, tmp_path):
    send(client, estate["lawn"])
    ticket = db.session.scalar(sa.select(Ticket))
    link = status_link(client.get(f"/repairs/sent/{ticket.id}").get_data(as_text=True))
    workflow.staff_act(
        ticket,
        estate["manager"],
        Action.ACCEPT,
        assignee="王师傅",
        note="电话 13800000009",
        upload_dir=tmp_path,
    )
    text = client.get(link).get_data(as_text=True)
    assert zh("Accepted") in text and "王师傅" not in text and "13800000009" not in text


def test_the_sent_page_only_opens_in_the_browser_that_sent_the_report(client, web, estate):
    send(client, estate["lawn"])
    ticket = db.session.scalar(sa.select(Ticket))
    assert client.get(f"/repairs/sent/{ticket.id}").status_code == 200
    other = web.test_client()
    assert other.get(f"/repairs/sent/{ticket.id}").status_code == 404
    assert other.get("/repairs/sent/99999999999999999999").status_code == 404


def test_the_same_form_sent_twice_is_one_report_with_the_same_link(client, estate):
    first = send(client, estate["lawn"])
    again = send(client, estate["lawn"])
    assert first.headers["Location"] == again.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


def test_a_forged_or_missing_request_key_never_reaches_another_report(
    client, sign_in, estate, tmp_path
):
    resident_ticket = reports.report(
        estate["resident"],
        compound_id=estate["compound"].id,
        description="3幢门口路面塌陷",
        category=None,
        facility=estate["lawn"],
        request_key=KEY,
        upload_dir=tmp_path,
    )
    response = send(client, estate["lawn"], key=KEY)  # the resident's form key
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 1
    for key in ("", "r1", "x" * 40):  # not a form key: a fresh one is made
        assert send(client, estate["lawn"], key=key).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 4
    assert db.session.get(Ticket, resident_ticket.id).reporter_id == estate["resident"].id


def test_refused_sticker_report_keeps_the_input_and_names_every_problem(client, estate):
    response = send(client, estate["manhole"], description="", phone="12345", photo=b"not a photo")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert zh("Describe the problem in a few words (at most 2000 characters).") in page
    assert zh("Enter an 11-digit mainland mobile number, or leave it empty.") in page
    assert zh("This file is not a photo we can read.") in page
    assert (
        zh("Please choose the photo again: a photo cannot be kept when the form is sent back.")
        in page
    )
    assert 'value="12345"' in page and f'value="{KEY}"' in page
    response = send(client, estate["manhole"], description="井盖翘起来了", phone="13812345678")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "井盖翘起来了" in page
    assert zh("Tick the box to leave your number, or leave the number empty.") in page
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0
    folder = Path(client.application.config["UPLOAD_DIR"])
    assert not folder.exists() or list(folder.iterdir()) == []


def test_staff_see_unverified_with_a_masked_phone_and_a_logged_reveal(client, sign_in, estate):
    send(client, estate["lawn"], phone="13812345678", consent="y")
    ticket = db.session.scalar(sa.select(Ticket))
    client.post("/logout", data={})
    sign_in("13900000002")
    queue = client.get(f"/staff/compounds/{estate['compound'].id}/repairs")
    assert zh("Unverified") in queue.get_data(as_text=True)
    page = client.get(f"/staff/repairs/{ticket.id}").get_data(as_text=True)
    assert zh("Unverified") in page and "138****5678" in page and "13812345678" not in page
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AccessLog.id)).where(
                AccessLog.action == "reporter_phone_viewed"
            )
        )
        == 0
    )
    shown = client.post(f"/staff/repairs/{ticket.id}/phone", data={})
    assert shown.status_code == 200 and "13812345678" in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    assert (
        db.session.scalar(
            sa.select(AccessLog.target).where(AccessLog.action == "reporter_phone_viewed")
        )
        == f"ticket:{ticket.id}"
    )


def test_the_contractor_cannot_reveal_a_report_not_routed_to_them(client, sign_in, estate):
    send(client, estate["lawn"], phone="13812345678", consent="y")  # green: the manager's
    ticket = db.session.scalar(sa.select(Ticket))
    sign_in("13900000006")
    assert client.post(f"/staff/repairs/{ticket.id}/phone", data={}).status_code == 404


def test_the_phone_is_deleted_when_the_report_closes(estate, client, tmp_path):
    send(client, estate["lawn"], phone="13812345678", consent="y")
    ticket = db.session.scalar(sa.select(Ticket))
    workflow.staff_act(ticket, estate["manager"], Action.REJECT, note="重复", upload_dir=tmp_path)
    db.session.refresh(ticket)
    assert ticket.status is Status.REJECTED and ticket.contact_phone is None


def test_signed_in_residents_say_me_too_on_an_unverified_report(client, sign_in, estate):
    send(client, estate["lawn"])
    ticket = db.session.scalar(sa.select(Ticket))
    sign_in("13800000002")
    listing = client.get("/repairs").get_data(as_text=True)
    assert f"/repairs/{ticket.id}" in listing  # neighbours see it among common reports
    form = client.get(f"/repairs/new?facility={estate['lawn'].sticker_code}")
    assert zh("Me too: follow this report") in form.get_data(as_text=True)
    assert client.post(f"/repairs/{ticket.id}/metoo", data={}).status_code == 302
    assert reports.followers(ticket) == 1
    page = client.get(f"/repairs/{ticket.id}").get_data(as_text=True)
    assert zh("You follow this report.") in page


def test_a_signed_in_resident_of_another_compound_reports_unverified(client, sign_in, estate):
    from tests.fixtures.factories import make_compound, make_resident

    make_resident(make_compound("别处"), "13800000077")
    sign_in("13800000077")
    page = client.get(f"/f/{estate['lawn'].sticker_code}")
    assert page.status_code == 200  # not their compound: the form without an account
    assert send(client, estate["lawn"]).status_code == 302
    assert db.session.scalar(sa.select(Ticket.unverified)) is True
    assert db.session.scalar(sa.select(Ticket.reporter_id)) is None


def test_sticker_reports_are_rate_limited_per_address(client, web, estate):
    web.config["REPAIR_STICKER_RATE_LIMIT"] = "3 per hour"
    for n in range(3):
        assert send(client, estate["lawn"], key=f"{n:032x}").status_code == 302
    assert send(client, estate["lawn"], key=f"{9:032x}").status_code == 429
    assert send(client, estate["manhole"], key=f"{8:032x}").status_code == 429
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 3
    assert client.get(f"/f/{estate['lawn'].sticker_code}").status_code == 200  # reading is free


def test_sticker_reports_are_rate_limited_per_facility(client, web, estate):
    web.config["REPAIR_STICKER_FACILITY_LIMIT"] = "2 per day"
    for n in range(2):
        assert send(client, estate["lawn"], key=f"{n:032x}").status_code == 302
    refused = send(client, estate["lawn"], description="")  # refused forms are not counted
    assert refused.status_code == 429  # the facility has had its reports for today
    assert send(client, estate["manhole"], key=f"{7:032x}").status_code == 302


def test_refused_forms_do_not_use_up_the_facility_limit(client, web, estate):
    web.config["REPAIR_STICKER_FACILITY_LIMIT"] = "1 per day"
    for _ in range(3):
        assert send(client, estate["lawn"], description="").status_code == 422
    assert send(client, estate["lawn"]).status_code == 302


@pytest.mark.parametrize("code", ["nope", "²", "x" * 300])
def test_unknown_stickers_are_404(client, code):
    assert client.get(f"/f/{code}").status_code == 404
    assert client.post(f"/f/{code}", data={"description": "xxxx"}).status_code == 404


def test_an_unverified_report_never_shows_anyone_elses_reports_or_photos(
    client, sign_in, estate, tmp_path
):
    reports.report(
        estate["resident"],
        compound_id=estate["compound"].id,
        description="我家厨房漏水 13800000001",
        category=None,
        facility=estate["lawn"],
        request_key="resident",
        photos=[jpeg_with_gps((20, 20))],
        upload_dir=tmp_path,
    )
    page = client.get(f"/f/{estate['lawn'].sticker_code}").get_data(as_text=True)
    assert "漏水" not in page and "13800000001" not in page  # only "already reported"
    assert (
        zh("The property manager knows about it. Report below only if it is something different.")
        in page
    )
    photo = db.session.scalar(sa.select(Photo))
    assert client.get(f"/repairs/photos/{photo.id}").status_code == 302  # sign in first
    send(client, estate["lawn"])
    mine = db.session.scalar(sa.select(Ticket).where(Ticket.unverified))
    link = status_link(client.get(f"/repairs/sent/{mine.id}").get_data(as_text=True))
    assert "漏水" not in client.get(link).get_data(as_text=True)
