"""Never a 500 from stored extreme dates or odd ids; refused forms keep the input (422)."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import example, given
from hypothesis import strategies as st

from app.extensions import db
from app.repairs import queries, reports, rules, workflow
from app.repairs.models import Ticket
from app.repairs.rules import Acceptance, Action, Category, Route, Status
from tests.conftest import zh
from tests.repairs.conftest import jpeg_with_gps

ODD_IDS = ["0", "-1", str(2**31), str(10**20), "99999999999999999999", "²", "１", "1.0", " ", "abc"]


# --- extreme acceptance dates --------------------------------------------------------------


@given(st.one_of(st.dates(), st.dates(min_value=date(9990, 1, 1))), st.sampled_from(list(Category)))
@example(date(9999, 12, 31), Category.WALLS)
@example(date(1, 1, 1), Category.WALLS)
def test_warranty_math_never_raises(accepted_on, category):
    end = rules.warranty_end(accepted_on, category)
    assert end is None or end > accepted_on
    rules.acceptance(accepted_on, date(2026, 11, 26))


@pytest.mark.parametrize(
    "accepted_on, state",
    [
        (date(9999, 12, 31), Acceptance.WRONG),
        (date(1, 1, 1), Acceptance.WRONG),
        (date(1949, 12, 31), Acceptance.WRONG),
        (date(2101, 1, 1), Acceptance.WRONG),
        (date(2027, 3, 1), Acceptance.FUTURE),
        (date(2025, 10, 30), Acceptance.DONE),
        (None, Acceptance.NOT_SET),
    ],
)
def test_acceptance_states(accepted_on, state):
    assert rules.acceptance(accepted_on, date(2026, 11, 26)) is state
    if state is Acceptance.WRONG:
        assert rules.warranty_end(accepted_on, Category.WALLS) is None


def test_add_years_beyond_the_calendar():
    assert rules.add_years(date(9999, 12, 31), 2) is None
    assert rules.add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)


@pytest.mark.parametrize("accepted_on", [date(9999, 12, 31), date(1, 1, 1)])
def test_pages_survive_an_impossible_acceptance_date(client, sign_in, estate, accepted_on):
    estate["compound"].accepted_on = accepted_on
    db.session.commit()
    sign_in("13900000002")
    compound_id = estate["compound"].id
    message = zh(
        "The completion acceptance date on record (%(date)s) looks wrong, so no "
        "warranty can be worked out and reports go to the property manager. Please "
        "ask the committee to correct it."
    ).split("%(date)s")[1]
    facilities = client.get(f"/staff/compounds/{compound_id}/facilities")
    assert facilities.status_code == 200 and message in facilities.get_data(as_text=True)
    assert str(accepted_on.year) in facilities.get_data(as_text=True)
    stickers = client.get(f"/staff/compounds/{compound_id}/stickers")
    assert stickers.status_code == 200 and message in stickers.get_data(as_text=True)
    client.post("/logout", data={})
    sign_in("13800000001")
    form = client.get(f"/f/{estate['manhole'].sticker_code}", follow_redirects=True)
    assert form.status_code == 200
    sent = client.post(
        "/repairs/new",
        data={"facility": estate["manhole"].sticker_code, "description": "井盖松动了"},
    )
    assert sent.status_code == 302
    ticket = db.session.scalar(sa.select(Ticket))
    assert ticket.route is Route.PROPERTY and ticket.warranty_until is None
    client.post("/logout", data={})
    anonymous = client.post(
        f"/f/{estate['manhole'].sticker_code}", data={"description": "井盖又松了"}
    )
    assert anonymous.status_code == 302
    sign_in("13900000002")
    page = client.get(f"/staff/repairs/{ticket.id}")
    assert page.status_code == 200 and message in page.get_data(as_text=True)
    assert client.get(f"/staff/compounds/{compound_id}/repairs").status_code == 200
    assert client.get(f"/staff/compounds/{compound_id}/repairs.xlsx").status_code == 200


def test_a_future_acceptance_date_is_stated_not_called_wrong(client, sign_in, estate):
    estate["compound"].accepted_on = date.today() + timedelta(days=90)
    db.session.commit()
    sign_in("13900000002")
    page = client.get(f"/staff/compounds/{estate['compound'].id}/facilities")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert (
        zh("Completion acceptance is recorded for %(date)s: warranties run from that day.").split(
            "%(date)s"
        )[1]
        in text
    )


# --- odd ids -------------------------------------------------------------------------------


@pytest.mark.parametrize("odd", ODD_IDS)
def test_odd_ids_in_report_forms_are_404_never_500(client, sign_in, estate, odd):
    sign_in("13800000001")
    home = client.post(
        "/repairs/new", data={"category": "roads", "where": odd, "description": "路面坑洼"}
    )
    assert home.status_code == (422 if odd == " " else 404), odd  # blank: place not chosen
    compound = client.post(
        "/repairs/new",
        data={"category": "roads", "where": "common", "compound": odd, "description": "路面坑洼"},
    )
    assert compound.status_code == (302 if odd == " " else 404), odd
    facility = client.get(f"/repairs/new?facility={odd}")
    assert facility.status_code in (200, 404), odd
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == (1 if odd == " " else 0)


@pytest.mark.parametrize("odd", ODD_IDS)
def test_odd_ratings_are_refused_with_a_message(client, sign_in, estate, tmp_path, odd):
    ticket = _resolved(estate, tmp_path)
    sign_in("13800000001")
    response = client.post(f"/repairs/{ticket.id}/confirm", data={"rating": odd})
    assert response.status_code == 422, odd
    assert zh("Choose how many stars to give, from 1 to 5.") in response.get_data(as_text=True)
    db.session.refresh(ticket)
    assert ticket.status is Status.RESOLVED


@pytest.mark.parametrize(
    "path",
    [
        "/repairs/{odd}",
        "/repairs/photos/{odd}",
        "/staff/repairs/{odd}",
        "/staff/compounds/{odd}/repairs",
        "/staff/compounds/{odd}/facilities",
        "/staff/compounds/{odd}/stickers",
        "/staff/compounds/{odd}/repairs.xlsx",
        "/repairs/sent/{odd}",
    ],
)
def test_odd_ids_in_urls_are_404(client, sign_in, estate, path):
    sign_in("13900000002")
    for odd in ODD_IDS[:6]:
        assert client.get(path.format(odd=odd)).status_code == 404, (path, odd)
    for odd in ODD_IDS[:6]:
        for step in ("accept", "start", "resolve", "reject", "phone"):
            assert client.post(f"/staff/repairs/{odd}/{step}", data={}).status_code == 404


def test_a_huge_contractor_phone_or_building_is_a_message(client, sign_in, estate):
    sign_in("13900000002")
    response = client.post(
        f"/staff/compounds/{estate['compound'].id}/facilities",
        data={
            "category": "roads",
            "name": "东门",
            "building": "9" * 40,
            "contractor_phone": "1" * 40,
        },
    )
    assert response.status_code == 422


# --- refused forms keep the input, errors next to the fields, all at once -------------------


def test_a_photo_error_keeps_category_place_and_description(client, sign_in, estate):
    sign_in("13800000001")
    response = client.post(
        "/repairs/new",
        data={
            "category": "roads",
            "where": "common",
            "location": "3幢门口",
            "description": "路面塌陷",
            "request_key": "f" * 32,
            "photos": [(io.BytesIO(b"not a photo"), "a.jpg")],
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<option selected value="roads">' in page
    assert 'value="common" checked' in page and 'value="3幢门口"' in page and "路面塌陷" in page
    assert 'value="' + "f" * 32 + '"' in page  # the same form: sent again it is one report
    error = page.index(zh("This file is not a photo we can read."))
    again = page.index(
        zh("Please choose the photo again: a photo cannot be kept when the form is sent back.")
    )
    field = page.index('id="photos"')
    assert (
        error < field
        and again < field
        and page.rfind("<label", 0, error) == page.rfind('<label for="photos"', 0, error)
    )  # next to the photo field
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0


def test_every_problem_of_a_report_at_once(client, sign_in, estate):
    sign_in("13800000001")
    response = client.post(
        "/repairs/new",
        data={
            "description": "",
            "photos": [(io.BytesIO(jpeg_with_gps((10, 10))), f"{n}.jpg") for n in range(4)],
        },
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in (
        "Choose what kind of problem it is.",
        "Say whether the problem is in your home or in a common area.",
        "Describe the problem in a few words (at most 2000 characters).",
    ):
        assert zh(message) in page, message
    assert zh("At most %(n)s photos.", n=3) in page


def test_a_good_photo_on_a_refused_form_must_be_chosen_again(client, sign_in, estate):
    sign_in("13800000001")
    response = client.post(
        "/repairs/new",
        data={
            "category": "roads",
            "where": "common",
            "description": "",
            "photos": [(io.BytesIO(jpeg_with_gps((10, 10))), "a.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert zh(
        "Please choose the photo again: a photo cannot be kept when the form is sent back."
    ) in response.get_data(as_text=True)
    folder = client.application.config["UPLOAD_DIR"]
    import os

    assert not os.path.exists(folder) or os.listdir(folder) == []


def test_facility_form_names_every_problem_at_once(client, sign_in, estate):
    sign_in("13900000002")
    response = client.post(
        f"/staff/compounds/{estate['compound'].id}/facilities",
        data={
            "category": "roads",
            "name": "",
            "building": "99",
            "area": "东门",
            "contractor_phone": "13000000000",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert zh("Give the facility a name (at most 80 characters).") in page
    assert zh("There is no building %(b)s in this compound.", b="99") in page
    assert zh("No contractor account with that phone in this compound.") in page
    assert 'value="东门"' in page and 'value="13000000000"' in page


def _resolved(estate, tmp_path, facility="lawn"):
    ticket = reports.report(
        estate["resident"],
        compound_id=estate["compound"].id,
        description="草坪被挖了",
        category=None,
        facility=estate[facility],
        request_key="t-" + facility,
        upload_dir=tmp_path,
    )
    for action in (Action.ACCEPT, Action.START):
        workflow.staff_act(
            ticket, estate["manager"], action, assignee="王师傅", upload_dir=tmp_path
        )
    workflow.staff_act(
        ticket,
        estate["manager"],
        Action.RESOLVE,
        after_photo=jpeg_with_gps((20, 20)),
        upload_dir=tmp_path,
    )
    return ticket


def test_no_default_star_rating_and_a_missing_rating_is_a_clear_error(
    client, sign_in, estate, tmp_path
):
    ticket = _resolved(estate, tmp_path)
    sign_in("13800000001")
    page = client.get(f"/repairs/{ticket.id}").get_data(as_text=True)
    assert 'name="rating"' in page and "checked" not in page
    response = client.post(f"/repairs/{ticket.id}/confirm", data={"comment": "还行"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert zh("Choose how many stars to give, from 1 to 5.") in page
    assert 'value="还行"' in page  # the comment is kept
    db.session.refresh(ticket)
    assert ticket.status is Status.RESOLVED and ticket.rating is None
    reopen = client.post(f"/repairs/{ticket.id}/reopen", data={"comment": ""})
    assert reopen.status_code == 422
    assert zh("Say what is still wrong.") in reopen.get_data(as_text=True)
    assert client.post(f"/repairs/{ticket.id}/confirm", data={"rating": "4"}).status_code == 302
    db.session.refresh(ticket)
    assert ticket.rating == 4


def test_refused_staff_steps_show_the_error_next_to_the_field(client, sign_in, estate, tmp_path):
    ticket = reports.report(
        estate["resident"],
        compound_id=estate["compound"].id,
        description="草坪被挖了",
        category=None,
        facility=estate["lawn"],
        request_key="s",
        upload_dir=tmp_path,
    )
    sign_in("13900000002")
    base = f"/staff/repairs/{ticket.id}"
    accept = client.post(f"{base}/accept", data={"assignee": "  "})
    assert accept.status_code == 422
    assert zh("Name the worker who will do the repair.") in accept.get_data(as_text=True)
    reject = client.post(f"{base}/reject", data={"note": ""})
    assert reject.status_code == 422
    assert zh("Give the reason for rejecting the report.") in reject.get_data(as_text=True)
    long = client.post(f"{base}/reject", data={"note": "长" * 301})
    assert long.status_code == 422  # never a database error for a 301-character reason
    assert zh("At most %(n)s characters.", n=300) in long.get_data(as_text=True)
    client.post(f"{base}/accept", data={"assignee": "王师傅"})
    client.post(f"{base}/start", data={})
    resolve = client.post(
        f"{base}/resolve",
        data={"note": "修好了", "after_photo": (io.BytesIO(b"nope"), "a.jpg")},
        content_type="multipart/form-data",
    )
    page = resolve.get_data(as_text=True)
    assert resolve.status_code == 422 and 'value="修好了"' in page
    assert zh("This file is not a photo we can read.") in page
    twice = client.post(f"{base}/start", data={})  # a step no longer possible
    assert twice.status_code == 422
    assert zh("This step is not possible at the report's current stage.") in twice.get_data(
        as_text=True
    )
    db.session.refresh(ticket)
    assert ticket.status is Status.IN_PROGRESS


def test_me_too_on_a_closed_report_is_refused_on_the_page(client, sign_in, estate, tmp_path):
    ticket = reports.report(
        estate["resident"],
        compound_id=estate["compound"].id,
        description="草坪被挖了",
        category=None,
        facility=estate["lawn"],
        request_key="m",
        upload_dir=tmp_path,
    )
    workflow.staff_act(ticket, estate["manager"], Action.REJECT, note="重复", upload_dir=tmp_path)
    sign_in("13800000002")
    response = client.post(f"/repairs/{ticket.id}/metoo", data={})
    assert response.status_code == 422
    assert zh("This report is already closed. Please report it again.") in response.get_data(
        as_text=True
    )


# --- the primary button is the next step ----------------------------------------------------


@pytest.mark.parametrize(
    "status, actions, primary",
    [
        (Status.SUBMITTED, rules.STAFF_ACTIONS, Action.ACCEPT),
        (Status.ACCEPTED, rules.STAFF_ACTIONS, Action.START),
        (Status.IN_PROGRESS, rules.STAFF_ACTIONS, Action.RESOLVE),
        (Status.RESOLVED, rules.STAFF_ACTIONS, None),
        (Status.RESOLVED, rules.RESIDENT_ACTIONS, Action.CONFIRM),
        (Status.CLOSED, rules.STAFF_ACTIONS, None),
        (Status.REJECTED, rules.STAFF_ACTIONS, None),
    ],
)
def test_next_step(status, actions, primary):
    allowed = rules.allowed_actions(status, actions)
    assert rules.next_step(status, allowed) is primary
    assert all(rules.next_status(status, a) is not None for a in allowed)


def test_confirm_and_reopen_are_not_allowed_after_the_window():
    resolved = datetime(2026, 11, 1, tzinfo=UTC)
    assert (
        rules.allowed_actions(
            Status.RESOLVED,
            rules.RESIDENT_ACTIONS,
            resolved_at=resolved,
            now=resolved + timedelta(days=8),
            confirm_window=timedelta(days=7),
        )
        == []
    )


def _buttons(page: str) -> list[tuple[str, str]]:
    import re

    main = page[page.index("<main") :]
    return re.findall(r'<button class="([^"]*)" type="submit">([^<]+)</button>', main)


def test_after_acceptance_the_primary_button_is_start_not_accept(client, sign_in, estate, tmp_path):
    ticket = reports.report(
        estate["resident"],
        compound_id=estate["compound"].id,
        description="草坪被挖了",
        category=None,
        facility=estate["lawn"],
        request_key="p",
        upload_dir=tmp_path,
    )
    sign_in("13900000002")
    page = client.get(f"/staff/repairs/{ticket.id}").get_data(as_text=True)
    assert _buttons(page)[0] == ("primary", zh("Accept and assign"))
    client.post(f"/staff/repairs/{ticket.id}/accept", data={"assignee": "王师傅"})
    page = client.get(f"/staff/repairs/{ticket.id}").get_data(as_text=True)
    buttons = _buttons(page)
    assert buttons[0] == ("primary", zh("Start the repair"))
    assert ("", zh("Change the worker")) in buttons
    assert zh("Accept and assign") not in page
    assert [b for b in buttons if b[0] == "primary"] == [buttons[0]]  # one primary action
    client.post(f"/staff/repairs/{ticket.id}/start", data={})
    page = client.get(f"/staff/repairs/{ticket.id}").get_data(as_text=True)
    assert _buttons(page) == [("primary", zh("Repaired"))]


# --- the resident's to-do list ---------------------------------------------------------------


def test_repairs_waiting_for_the_resident_to_confirm(estate, tmp_path, app):
    ticket = _resolved(estate, tmp_path)
    other = reports.report(
        estate["neighbour"],
        compound_id=estate["compound"].id,
        description="路灯坏了",
        category=None,
        facility=estate["manhole"],
        request_key="n",
        upload_dir=tmp_path,
    )
    with app.test_request_context():
        (item,) = queries.awaiting_confirmation(estate["resident"])
        assert (item.ticket_id, item.title, item.url) == (
            ticket.id,
            "中心绿地",
            f"/repairs/{ticket.id}",
        )
        assert item.confirm_by == item.resolved_at + timedelta(days=7)
    assert queries.count_awaiting_confirmation(estate["resident"]) == 1
    assert queries.awaiting_confirmation(estate["neighbour"]) == []  # not resolved yet
    later = ticket.resolved_at + timedelta(days=8)
    assert queries.awaiting_confirmation(estate["resident"], now=later) == []
    assert queries.count_awaiting_confirmation(estate["resident"], now=later) == 0
    workflow.resident_act(ticket, estate["resident"], Action.CONFIRM, rating=5)
    assert queries.count_awaiting_confirmation(estate["resident"]) == 0
    assert other.status is Status.SUBMITTED


def test_the_to_do_lookup_is_two_queries(estate, tmp_path, app):
    _resolved(estate, tmp_path)
    _resolved(estate, tmp_path, facility="manhole")
    statements = []
    engine = db.engine

    def count(*args):
        statements.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        db.session.expire_all()
        user = estate["resident"]
        user_id = user.id  # loads the user outside the count
        statements.clear()
        items = queries.awaiting_confirmation(user)
        assert len(items) == 2 and user_id
        assert len(statements) == 2  # the repairs, and their compounds' policies
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


# --- printed and exported dates carry the year -------------------------------------------------


def test_stickers_print_the_warranty_end_with_the_year(client, sign_in, estate):
    sign_in("13900000002")
    page = client.get(f"/staff/compounds/{estate['compound'].id}/stickers").get_data(as_text=True)
    assert "2027年10月30日" in page  # the manhole: two years from 2025-10-30
    facilities = client.get(f"/staff/compounds/{estate['compound'].id}/facilities")
    assert "2027年10月30日" in facilities.get_data(as_text=True)


def test_the_export_gives_beijing_times_with_the_year_and_the_warranty(estate, tmp_path):
    reports.report(
        estate["resident"],
        compound_id=estate["compound"].id,
        description="井盖松动了",
        category=None,
        facility=estate["manhole"],
        request_key="x",
        upload_dir=tmp_path,
        now=datetime(2026, 11, 26, 17, 30, tzinfo=UTC),
    )
    (row,) = queries.export_rows(estate["compound"], estate["manager"])
    header = queries.EXPORT_HEADER
    assert row[1] == "2026-11-27 01:30"  # Beijing time, the next day
    assert row[header.index("保修截止 warranty until")] == "2027-10-30"
    assert len(row) == len(header)
