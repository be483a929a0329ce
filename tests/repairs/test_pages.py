"""Repair pages: sticker to report, photos only for those allowed, the staff queue."""

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.extensions import db
from app.repairs.models import Photo, Ticket
from app.repairs.rules import Status
from tests.conftest import zh
from tests.fixtures.factories import make_compound, make_user
from tests.repairs.conftest import jpeg_with_gps


def post_report(client, estate, code=None, photos=(), **fields):
    data = {"description": "井盖松动了", "request_key": fields.pop("key", "r1"), **fields}
    if code:
        data["facility"] = code
    data["photos"] = [(io.BytesIO(p), f"p{n}.jpg") for n, p in enumerate(photos)]
    return client.post("/repairs/new", data=data, content_type="multipart/form-data")


def test_sticker_leads_to_a_prefilled_report_with_photo(client, sign_in, estate):
    code = estate["manhole"].sticker_code
    anonymous = client.get(f"/f/{code}")  # the report form without an account
    assert anonymous.status_code == 200 and "3幢北侧窨井" in anonymous.get_data(as_text=True)
    assert f"/login?next=/f/{code}" in anonymous.get_data(as_text=True)  # sign-in one tap away
    sign_in("13800000001")
    assert client.get(f"/f/{code}").headers["Location"].endswith(f"/repairs/new?facility={code}")
    form = client.get(f"/f/{code}", follow_redirects=True).get_data(as_text=True)
    assert "3幢北侧窨井" in form
    response = post_report(client, estate, code, photos=[jpeg_with_gps()])
    assert response.status_code == 302
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.facility_id == estate["manhole"].id and len(ticket.photos) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    photo_url = re.search(r'src="(/repairs/photos/\d+)"', page).group(1)
    image = client.get(photo_url)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert (
        client.get(f"/static/../instance/uploads/{ticket.photos[0].stored_name}").status_code == 404
    )


def test_next_report_on_the_same_facility_is_offered_me_too(client, sign_in, estate):
    sign_in("13800000001")
    post_report(client, estate, estate["manhole"].sticker_code)
    client.post("/logout", data={})
    sign_in("13800000002")
    form = client.get(f"/repairs/new?facility={estate['manhole'].sticker_code}")
    assert zh("Me too: follow this report") in form.get_data(as_text=True)
    ticket = db.session.scalar(sa.select(Ticket))
    client.post(f"/repairs/{ticket.id}/metoo", data={})
    client.post(f"/repairs/{ticket.id}/metoo", data={})
    from app.repairs.reports import followers

    assert followers(ticket) == 1


def test_bad_reports_are_messages_and_save_nothing(client, sign_in, estate):
    sign_in("13800000001")
    for fields, photos in [
        ({"description": "", "where": "common"}, ()),
        ({"category": "nonsense", "where": "common"}, ()),
        ({"category": "roads"}, ()),  # no place chosen
        ({"category": "roads", "where": "common"}, [b"not a photo"]),
        ({"category": "roads", "where": "common"}, [jpeg_with_gps((10, 10))] * 4),
    ]:
        response = post_report(client, estate, photos=photos, **fields)
        assert response.status_code == 422, fields
        assert 'class="error"' in response.get_data(as_text=True), fields
    for where in ("999999999999", "²", "0", str(estate["other_home"].id)):
        response = post_report(client, estate, category="roads", where=where)
        assert response.status_code == 404, where
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0
    assert client.get("/repairs/new?facility=nope").status_code == 404


def test_private_reports_and_photos_stay_private(client, web, sign_in, estate):
    sign_in("13800000001")
    post_report(
        client,
        estate,
        category="utilities",
        where=str(estate["home"].id),
        photos=[jpeg_with_gps((40, 40))],
        key="private",
    )
    ticket = db.session.scalar(sa.select(Ticket))
    photo = db.session.scalar(sa.select(Photo))
    client.post("/logout", data={})
    sign_in("13800000002")  # the neighbour
    assert client.get(f"/repairs/{ticket.id}").status_code == 404
    assert client.get(f"/repairs/photos/{photo.id}").status_code == 404
    assert "utilities" not in client.get("/repairs").get_data(as_text=True)
    outsider = make_compound("别处")
    make_user("13900000009", grants=[(Role.PROPERTY_MANAGER, outsider)])
    client.post("/logout", data={})
    sign_in("13900000009")
    assert client.get(f"/staff/repairs/{ticket.id}").status_code == 404
    assert client.get(f"/repairs/photos/{photo.id}").status_code == 404


def test_common_reports_hide_the_reporter(client, sign_in, estate):
    sign_in("13800000001")
    post_report(client, estate, estate["lawn"].sticker_code)
    ticket = db.session.scalar(sa.select(Ticket))
    client.post("/logout", data={})
    sign_in("13800000002")
    page = client.get(f"/repairs/{ticket.id}").get_data(as_text=True)
    assert "中心绿地" in page and "13800000001" not in page and "居民0001" not in page


def test_staff_work_the_queue_and_the_resident_confirms(client, sign_in, estate):
    sign_in("13800000001")
    post_report(client, estate, estate["lawn"].sticker_code)
    ticket = db.session.scalar(sa.select(Ticket))
    client.post("/logout", data={})
    sign_in("13900000002")  # property manager
    queue = client.get(f"/staff/compounds/{estate['compound'].id}/repairs")
    assert f"/staff/repairs/{ticket.id}" in queue.get_data(as_text=True)
    assert (
        client.get(
            f"/staff/compounds/{estate['compound'].id}/repairs?status=bogus&"
            "category=x&building=%E2%80%AE"
        ).status_code
        == 200
    )
    base = f"/staff/repairs/{ticket.id}"
    client.post(f"{base}/accept", data={"assignee": "王师傅"})
    client.post(f"{base}/start", data={})
    client.post(f"{base}/resolve", data={"note": "已修好"})  # no photo: refused
    db.session.refresh(ticket)
    assert ticket.status is Status.IN_PROGRESS
    client.post(
        f"{base}/resolve",
        data={"note": "已修好", "after_photo": (io.BytesIO(jpeg_with_gps((60, 40))), "after.jpg")},
        content_type="multipart/form-data",
    )
    db.session.refresh(ticket)
    assert ticket.status is Status.RESOLVED
    xlsx = client.get(f"/staff/compounds/{estate['compound'].id}/repairs.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    client.post("/logout", data={})
    sign_in("13800000001")
    client.post(f"/repairs/{ticket.id}/confirm", data={"rating": "5", "comment": "谢谢"})
    db.session.refresh(ticket)
    assert ticket.status is Status.CONFIRMED and ticket.rating == 5


def test_facility_register_and_stickers(client, sign_in, estate):
    sign_in("13900000002")
    url = f"/staff/compounds/{estate['compound'].id}/facilities"
    page = client.get(url).get_data(as_text=True)
    assert "3幢北侧窨井" in page and "2027" in page  # warranty end shown
    client.post(
        url,
        data={
            "category": "lights_chargers",
            "name": "东门路灯",
            "building": "",
            "area": "东门",
            "renovated": "y",
            "contractor_name": "",
            "contractor_phone": "",
        },
    )
    bad = client.post(url, data={"category": "roads", "name": "x", "building": "99"})
    assert bad.status_code == 422
    stickers = client.get(f"/staff/compounds/{estate['compound'].id}/stickers")
    text = stickers.get_data(as_text=True)
    assert stickers.status_code == 200 and text.count('<section class="sticker">') == 3
    assert "/f/" in text


@pytest.mark.parametrize("role", [Role.CANTEEN_OPERATOR, Role.CLASSROOM_OPERATOR])
def test_other_operators_have_no_repair_pages(client, sign_in, estate, role):
    make_user("13900000010", grants=[(role, estate["compound"])])
    sign_in("13900000010")
    assert client.get(f"/staff/compounds/{estate['compound'].id}/repairs").status_code == 404


def test_autoclose_cli(runner, estate):
    result = runner.invoke(args=["repairs", "autoclose"])
    assert result.exit_code == 0 and "Closed 0 tickets." in result.output


def test_neighbours_never_see_resident_notes_and_markup_is_escaped(client, sign_in, estate):
    from app.repairs import workflow
    from app.repairs.rules import Action

    sign_in("13800000001")
    post_report(client, estate, estate["lawn"].sticker_code)
    ticket = db.session.scalar(sa.select(Ticket))
    workflow.staff_act(
        ticket,
        estate["manager"],
        Action.ACCEPT,
        assignee="王师傅",
        note="<b id=x>先修</b> 50%",
        upload_dir=Path("/tmp"),
    )
    page = client.get(f"/repairs/{ticket.id}").get_data(as_text=True)
    assert "<b id=x>" not in page and "&lt;b id=x&gt;" in page  # shown escaped, no crash
    client.post("/logout", data={})
    sign_in("13800000002")
    neighbour = client.get(f"/repairs/{ticket.id}")
    assert neighbour.status_code == 200 and "50%" not in neighbour.get_data(as_text=True)


def test_committee_has_no_repair_queue(client, sign_in, estate):
    make_user("13900000011", grants=[(Role.COMMITTEE, estate["compound"])])
    sign_in("13900000011")
    assert client.get(f"/staff/compounds/{estate['compound'].id}/repairs").status_code == 404
