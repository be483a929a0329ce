"""Reporting, routing, the workflow, photos and who may see what."""

import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from app.core import settings
from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.repairs import queries, register, reports, shared, workflow
from app.repairs.models import Photo, PhotoKind, Ticket, TicketEvent
from app.repairs.rules import Action, Category, Priority, Route, Status
from tests.fixtures.factories import make_compound, make_resident
from tests.repairs.conftest import jpeg_with_gps

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def report(estate, tmp_path, **kw):
    args = {
        "compound_id": estate["compound"].id,
        "description": "井盖破了，很危险",
        "category": None,
        "facility": estate["manhole"],
        "request_key": "k1",
        "upload_dir": tmp_path / "photos",
        "now": NOW,
    }
    args.update(kw)
    return reports.report(estate["resident"], **args)


def test_report_routes_a_facility_in_warranty_to_its_contractor(estate, tmp_path):
    ticket = report(estate, tmp_path)
    assert ticket.route is Route.CONTRACTOR and ticket.contractor_id == estate["contractor"].id
    assert ticket.warranty_until.isoformat() == "2027-10-30"
    assert ticket.priority is Priority.NORMAL and ticket.status is Status.SUBMITTED
    lawn = report(estate, tmp_path, facility=estate["lawn"], request_key="k2")
    assert lawn.route is Route.PROPERTY  # green space: no warranty
    late = report(estate, tmp_path, request_key="k3", now=NOW + timedelta(days=400))
    assert late.route is Route.PROPERTY  # after the two-year warranty


def test_urgent_categories_and_home_reports(estate, tmp_path):
    ticket = report(
        estate,
        tmp_path,
        facility=None,
        category=Category.UTILITIES,
        dwelling_id=estate["home"].id,
        location="厨房燃气管",
        request_key="g",
    )
    assert ticket.priority is Priority.URGENT and not ticket.is_common


def test_photos_are_cleaned_scaled_and_stripped(estate, tmp_path):
    ticket = report(estate, tmp_path, photos=[jpeg_with_gps()])
    photo = ticket.photos[0]
    stored = Image.open(tmp_path / "photos" / photo.stored_name)
    assert max(stored.size) == 1600 and stored.format == "JPEG"
    assert not stored.getexif() and "exif" not in stored.info


@pytest.mark.parametrize(
    "data", [b"not an image", b"", b"%PDF-1.4 something", b"\x89PNG\r\n\x1a\n" + b"0" * 100]
)
def test_non_images_are_refused_and_nothing_is_saved(estate, tmp_path, data):
    with pytest.raises(DomainError):
        report(estate, tmp_path, photos=[jpeg_with_gps(), data])
    assert db.session.scalar(sa.select(sa.func.count(Ticket.id))) == 0
    folder = tmp_path / "photos"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_huge_and_too_many_photos_are_refused(estate, tmp_path):
    with pytest.raises(DomainError):
        report(estate, tmp_path, photos=[b"x" * (10 * 1024 * 1024 + 1)])
    with pytest.raises(DomainError):
        report(estate, tmp_path, photos=[jpeg_with_gps((20, 20))] * 4)


def test_same_form_twice_is_one_ticket_and_me_too(estate, tmp_path):
    first = report(estate, tmp_path)
    assert report(estate, tmp_path).id == first.id
    assert register.open_ticket_on(estate["manhole"]).id == first.id
    reports.me_too(first, estate["neighbour"])
    reports.me_too(first, estate["neighbour"])  # a double tap
    assert reports.followers(first) == 1


def test_workflow_with_timeline(estate, tmp_path):
    ticket = report(estate, tmp_path)
    contractor = estate["contractor"]
    with pytest.raises(DomainError):
        workflow.staff_act(
            ticket,
            contractor,
            Action.RESOLVE,
            after_photo=jpeg_with_gps(),
            upload_dir=tmp_path,
            now=NOW,
        )  # not started
    with pytest.raises(DomainError):
        workflow.staff_act(ticket, contractor, Action.ACCEPT, upload_dir=tmp_path)  # no worker
    workflow.staff_act(
        ticket,
        contractor,
        Action.ACCEPT,
        assignee="李师傅",
        upload_dir=tmp_path,
        now=NOW + timedelta(hours=1),
    )
    workflow.staff_act(ticket, contractor, Action.START, upload_dir=tmp_path, now=NOW)
    with pytest.raises(DomainError):
        workflow.staff_act(ticket, contractor, Action.RESOLVE, upload_dir=tmp_path, now=NOW)
    workflow.staff_act(
        ticket,
        contractor,
        Action.RESOLVE,
        after_photo=jpeg_with_gps((50, 40)),
        upload_dir=tmp_path,
        now=NOW + timedelta(days=1),
    )
    with pytest.raises(NotFound):  # only the reporter confirms
        workflow.resident_act(ticket, estate["neighbour"], Action.CONFIRM, rating=5)
    workflow.resident_act(
        ticket, estate["resident"], Action.REOPEN, comment="还是松动", now=NOW + timedelta(days=2)
    )
    workflow.staff_act(
        ticket,
        contractor,
        Action.RESOLVE,
        after_photo=jpeg_with_gps((50, 40)),
        upload_dir=tmp_path,
        now=NOW + timedelta(days=3),
    )
    with pytest.raises(DomainError):
        workflow.resident_act(ticket, estate["resident"], Action.CONFIRM, rating=6)
    workflow.resident_act(
        ticket,
        estate["resident"],
        Action.CONFIRM,
        rating=4,
        comment="好",
        now=NOW + timedelta(days=4),
    )
    assert ticket.status is Status.CONFIRMED and ticket.rating == 4 and ticket.reopen_count == 1
    steps = [
        (e.from_status, e.to_status)
        for e in db.session.scalars(sa.select(TicketEvent).order_by(TicketEvent.id))
    ]
    assert steps[0] == (None, Status.SUBMITTED) and steps[-1][1] is Status.CONFIRMED
    assert len(steps) == 7
    assert sum(1 for p in db.session.scalars(sa.select(Photo.kind)) if p is PhotoKind.AFTER) == 2


def test_reject_needs_a_reason_and_auto_close_after_seven_days(estate, tmp_path):
    manager = estate["manager"]
    lawn = report(estate, tmp_path, facility=estate["lawn"], request_key="a")
    with pytest.raises(DomainError):
        workflow.staff_act(lawn, manager, Action.REJECT, upload_dir=tmp_path)
    workflow.staff_act(lawn, manager, Action.REJECT, note="重复报修", upload_dir=tmp_path)
    assert lawn.status is Status.REJECTED and lawn.reject_reason == "重复报修"
    other = report(estate, tmp_path, facility=estate["lawn"], request_key="b")
    for action in (Action.ACCEPT, Action.START):
        workflow.staff_act(other, manager, action, assignee="王师傅", upload_dir=tmp_path, now=NOW)
    workflow.staff_act(
        other,
        manager,
        Action.RESOLVE,
        after_photo=jpeg_with_gps((30, 30)),
        upload_dir=tmp_path,
        now=NOW,
    )
    assert workflow.auto_close(NOW + timedelta(days=6)) == 0
    assert workflow.auto_close(NOW + timedelta(days=8)) == 1
    db.session.refresh(other)
    assert other.status is Status.CLOSED
    with pytest.raises(DomainError):
        workflow.resident_act(
            other, estate["resident"], Action.REOPEN, comment="x", now=NOW + timedelta(days=9)
        )


def test_the_confirm_window_and_the_targets_are_the_compounds_policy(estate, tmp_path, app):
    """A compound that gives its residents ten days to confirm: not closed on day 8, while
    another compound's repair (seven days, the default) is; and urgent reports answered
    within four hours where that compound's target is four."""
    settings.set_value("compound", str(estate["compound"].id), "confirm_window_days", 10)
    settings.set_value("compound", str(estate["compound"].id), "urgent_respond_hours", 4)
    manager = estate["manager"]
    ticket = report(estate, tmp_path, facility=estate["lawn"], request_key="w")
    for action in (Action.ACCEPT, Action.START):
        workflow.staff_act(ticket, manager, action, assignee="王师傅", upload_dir=tmp_path, now=NOW)
    workflow.staff_act(
        ticket,
        manager,
        Action.RESOLVE,
        after_photo=jpeg_with_gps((30, 30)),
        upload_dir=tmp_path,
        now=NOW,
    )
    elsewhere = make_compound("别的小区")
    resident, _home = make_resident(elsewhere, "13800000099")
    theirs = reports.report(
        resident,
        compound_id=elsewhere.id,
        description="路灯不亮",
        category=Category.LIGHTS_CHARGERS,
        facility=None,
        request_key="x",
        upload_dir=tmp_path,
        now=NOW,
    )
    db.session.execute(
        sa.update(Ticket)
        .where(Ticket.id == theirs.id)
        .values(status=Status.RESOLVED, resolved_at=NOW)
    )
    db.session.commit()
    day8 = NOW + timedelta(days=8)
    assert workflow.can_still_confirm(ticket, now=day8)
    assert [t.ticket_id for t in queries.awaiting_confirmation(estate["resident"], now=day8)] == [
        ticket.id
    ]
    assert workflow.auto_close(day8) == 1  # the other compound's
    assert db.session.get(Ticket, ticket.id).status is Status.RESOLVED
    assert db.session.get(Ticket, theirs.id).status is Status.CLOSED
    assert workflow.auto_close(NOW + timedelta(days=10, seconds=1)) == 1
    assert db.session.get(Ticket, ticket.id).status is Status.CLOSED
    urgent = report(
        estate, tmp_path, facility=None, category=Category.UTILITIES, request_key="u", now=NOW
    )
    assert urgent.priority is Priority.URGENT
    with app.test_request_context():
        (row,) = [
            r
            for r in queries.queue(
                estate["compound"], manager, queries.QueueFilter(), now=NOW + timedelta(hours=3)
            )
            if r[0].id == urgent.id
        ]
    assert not row[1].overdue  # 3 hours: late against the default 2, not against 4


def test_who_sees_what(estate, tmp_path):
    common = report(estate, tmp_path)
    private = report(
        estate,
        tmp_path,
        facility=None,
        category=Category.UTILITIES,
        dwelling_id=estate["home"].id,
        request_key="p",
    )
    neighbour = estate["neighbour"]
    assert shared.get_ticket_for_resident(common.id, neighbour).id == common.id
    with pytest.raises(NotFound):
        shared.get_ticket_for_resident(private.id, neighbour)
    contractor = estate["contractor"]
    assert shared.get_ticket_for_staff(common.id, contractor)
    with pytest.raises(NotFound):  # routed to the property manager, not the contractor
        shared.get_ticket_for_staff(private.id, contractor)
    from app.repairs.queries import QueueFilter

    assert [
        t.id for t, _ in queries.queue(estate["compound"], contractor, QueueFilter(), now=NOW)
    ] == [common.id]
    queue = queries.queue(
        estate["compound"], estate["manager"], QueueFilter(), now=NOW + timedelta(hours=3)
    )
    assert queue[0][0].id == private.id and queue[0][1].overdue  # urgent and late: first
    with pytest.raises(NotFound):
        workflow.staff_act(private, contractor, Action.ACCEPT, assignee="x", upload_dir=tmp_path)


def test_figures(estate, tmp_path):
    ticket = report(estate, tmp_path, facility=estate["lawn"])
    manager = estate["manager"]
    workflow.staff_act(ticket, manager, Action.ACCEPT, assignee="王", upload_dir=tmp_path, now=NOW)
    workflow.staff_act(ticket, manager, Action.START, upload_dir=tmp_path, now=NOW)
    workflow.staff_act(
        ticket,
        manager,
        Action.RESOLVE,
        after_photo=jpeg_with_gps((9, 9)),
        upload_dir=tmp_path,
        now=NOW + timedelta(hours=5),
    )
    (row,) = queries.figures(estate["compound"], manager, now=NOW + timedelta(hours=6))
    assert (
        row.category,
        row.tickets,
        row.median_hours_to_resolve,
        row.overdue,
        row.reopen_rate,
    ) == (Category.GREEN, 1, 5.0, 0, 0.0)


def test_photo_rotation_and_all_metadata_are_handled(estate, tmp_path):
    image = Image.new("RGB", (400, 200), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # taken with the phone held upright: rotate 90°
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"home address here")
    ticket = report(estate, tmp_path, photos=[out.getvalue()])
    stored = Image.open(tmp_path / "photos" / ticket.photos[0].stored_name)
    assert stored.size == (200, 400)  # upright
    assert not stored.getexif() and "comment" not in stored.info and "exif" not in stored.info
    png = io.BytesIO()
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    meta.add_text("Location", "31.2N 121.4E")
    Image.new("I;16", (30, 30), 20000).save(png, "PNG", pnginfo=meta)
    grey = report(estate, tmp_path, photos=[png.getvalue()], request_key="png")
    stored = Image.open(tmp_path / "photos" / grey.photos[0].stored_name)
    assert stored.getpixel((0, 0)) not in (255, (255, 255, 255)) and not stored.info.get("Location")


def test_decompression_bombs_are_refused(estate, tmp_path):
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, "PNG")  # tiny file, 64 megapixels
    with pytest.raises(DomainError):
        report(estate, tmp_path, photos=[out.getvalue()])


def test_double_taps_on_a_step_move_the_ticket_once(web, estate, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from app.accounts.models import User

    ticket = report(estate, tmp_path, facility=estate["lawn"])
    manager_id, ticket_id = estate["manager"].id, ticket.id
    for action in (Action.ACCEPT, Action.START):
        workflow.staff_act(
            ticket, estate["manager"], action, assignee="王", upload_dir=tmp_path, now=NOW
        )
    photo = jpeg_with_gps((20, 20))

    def resolve(_):
        with web.app_context():
            try:
                workflow.staff_act(
                    db.session.get(Ticket, ticket_id),
                    db.session.get(User, manager_id),
                    Action.RESOLVE,
                    after_photo=photo,
                    upload_dir=tmp_path / "photos",
                    now=NOW,
                )
                return "ok"
            except DomainError:
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(resolve, range(6)))
    assert results.count("ok") == 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count(TicketEvent.id)).where(TicketEvent.to_status == Status.RESOLVED)
        )
        == 1
    )
    assert (
        db.session.scalar(sa.select(sa.func.count(Photo.id)).where(Photo.kind == PhotoKind.AFTER))
        == 1
    )


def test_contractors_hand_back_instead_of_rejecting(estate, tmp_path):
    ticket = report(estate, tmp_path)
    contractor = estate["contractor"]
    with pytest.raises(DomainError):
        workflow.staff_act(ticket, contractor, Action.REJECT, upload_dir=tmp_path)
    workflow.staff_act(
        ticket, contractor, Action.REJECT, note="不是施工质量问题", upload_dir=tmp_path, now=NOW
    )
    assert (ticket.route, ticket.status, ticket.contractor_id) == (
        Route.PROPERTY,
        Status.SUBMITTED,
        None,
    )
    from app.repairs.queries import QueueFilter

    queue = queries.queue(estate["compound"], estate["manager"], QueueFilter(), now=NOW)
    assert [t.id for t, _ in queue] == [ticket.id]
    with pytest.raises(NotFound):  # no longer the contractor's
        shared.get_ticket_for_staff(ticket.id, contractor)


def test_a_second_contractor_cannot_touch_the_first_ones_tickets(estate, tmp_path):
    from app.accounts.models import Role
    from tests.fixtures.factories import make_user

    ticket = report(estate, tmp_path)
    other = make_user("13900000016", grants=[(Role.CONTRACTOR, estate["compound"])])
    with pytest.raises(NotFound):
        shared.get_ticket_for_staff(ticket.id, other)
    assert not shared.can_manage(other, ticket)
    assert queries.figures(estate["compound"], other, now=NOW) == []


def test_overdue_comes_before_urgent_but_not_late(estate, tmp_path):
    from app.repairs.queries import QueueFilter

    old_normal = report(
        estate, tmp_path, facility=estate["lawn"], request_key="old", now=NOW - timedelta(days=10)
    )
    fresh_urgent = report(
        estate, tmp_path, facility=None, category=Category.FIRE_SAFETY, request_key="fire", now=NOW
    )
    order = [
        t.id
        for t, _ in queries.queue(
            estate["compound"], estate["manager"], QueueFilter(), now=NOW + timedelta(minutes=5)
        )
    ]
    assert order == [old_normal.id, fresh_urgent.id]


def test_in_home_reports_stay_out_of_the_neighbours_list_and_me_too(estate, tmp_path):
    private = report(
        estate,
        tmp_path,
        facility=None,
        category=Category.UTILITIES,
        dwelling_id=estate["home"].id,
        request_key="home",
    )
    _, common = queries.resident_tickets(estate["neighbour"])
    assert private.id not in [t.id for t in common]
    with pytest.raises(NotFound):
        reports.me_too(private, estate["neighbour"])


def test_forged_facility_dwelling_and_request_key(estate, tmp_path):
    from tests.fixtures.factories import make_compound, make_resident

    elsewhere = make_compound("别处")
    make_resident(elsewhere, "13800000099")
    foreign = register.add_facility(elsewhere, category=Category.ROADS, name="别处道路")
    with pytest.raises(NotFound):
        report(estate, tmp_path, facility=foreign)
    with pytest.raises(NotFound):
        report(
            estate,
            tmp_path,
            facility=None,
            category=Category.ROADS,
            dwelling_id=estate["other_home"].id,
            request_key="x",
        )
    first = report(estate, tmp_path, request_key="shared")
    with pytest.raises(NotFound):  # someone else's form key
        reports.report(
            estate["neighbour"],
            compound_id=estate["compound"].id,
            description="xxxx",
            category=Category.ROADS,
            request_key="shared",
            upload_dir=tmp_path,
        )
    assert first.reporter_id == estate["resident"].id


def test_export_is_logged(estate, tmp_path):
    from app.accounts.models import AccessLog

    report(estate, tmp_path)
    rows = queries.export_rows(estate["compound"], estate["manager"])
    assert len(rows) == 1
    assert db.session.scalar(
        sa.select(AccessLog.action).where(AccessLog.action == "tickets_exported")
    )


def test_warranty_ends_on_the_anniversary(estate, tmp_path):
    on_the_day = report(
        estate, tmp_path, request_key="d1", now=datetime(2027, 10, 30, 2, 0, tzinfo=UTC)
    )
    next_day = report(
        estate, tmp_path, request_key="d2", now=datetime(2027, 10, 31, 2, 0, tzinfo=UTC)
    )
    assert (on_the_day.route, next_day.route) == (Route.CONTRACTOR, Route.PROPERTY)


def test_auto_close_reads_the_policies_once_not_per_ticket(estate, tmp_path):
    """The daily run over many compounds: a fixed number of statements before the closes."""
    from tests.fixtures.querycount import counting

    manager = estate["manager"]
    for n in range(3):
        ticket = report(estate, tmp_path, facility=estate["lawn"], request_key=f"q{n}")
        for action in (Action.ACCEPT, Action.START):
            workflow.staff_act(
                ticket, manager, action, assignee="王师傅", upload_dir=tmp_path, now=NOW
            )
        workflow.staff_act(
            ticket,
            manager,
            Action.RESOLVE,
            after_photo=jpeg_with_gps((30, 30)),
            upload_dir=tmp_path,
            now=NOW,
        )
    settings.set_value("compound", str(estate["compound"].id), "confirm_window_days", 10)
    db.session.expire_all()
    with counting(db.engine) as statements:
        assert workflow.auto_close(NOW + timedelta(days=8)) == 0  # past 7 days, not past 10
    reads = [s for s in statements if str(s).lstrip().upper().startswith("SELECT")]
    assert len(reads) == 3  # the shortest window, the tickets, their compounds' policies
    assert workflow.auto_close(NOW + timedelta(days=10, seconds=1)) == 3
