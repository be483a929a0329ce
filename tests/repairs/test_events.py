"""Every status change of a ticket is announced once, inside its transaction: the report, a
contractor handing it back, each transition and the automatic close."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from app.core import events
from app.core.errors import DomainError
from app.extensions import db
from app.repairs import reports, workflow
from app.repairs.models import Ticket
from app.repairs.rules import Action, Status
from tests.repairs.conftest import jpeg_with_gps

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@contextmanager
def heard():
    """The (ticket id, before, after, actor id) of every ticket_status_changed sent inside
    the block, each with the status the database holds when it is sent."""
    seen = []

    def receiver(ticket, before=None, after=None, actor=None, **extra):
        stored = db.session.get(Ticket, ticket.id).status
        seen.append((ticket.id, before, after, actor.id if actor else None, stored))

    events.ticket_status_changed.connect(receiver)
    try:
        yield seen
    finally:
        events.ticket_status_changed.disconnect(receiver)


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


def test_a_report_is_announced_once_and_the_same_form_twice_not_again(estate, tmp_path):
    with heard() as seen:
        ticket = report(estate, tmp_path)
        assert report(estate, tmp_path).id == ticket.id  # the same form sent twice
    assert seen == [(ticket.id, None, Status.SUBMITTED, estate["resident"].id, Status.SUBMITTED)]


def test_a_sticker_report_is_announced_without_an_actor(estate, tmp_path):
    with heard() as seen:
        ticket, _token = reports.report_from_sticker(
            estate["lawn"],
            description="草坪被挖坏了",
            request_key="a" * 32,
            secret="s",
            upload_dir=tmp_path,
            now=NOW,
        )
    assert seen == [(ticket.id, None, Status.SUBMITTED, None, Status.SUBMITTED)]


def test_each_transition_is_announced_once_and_a_refusal_not_at_all(estate, tmp_path):
    ticket = report(estate, tmp_path)
    contractor, resident = estate["contractor"], estate["resident"]
    with heard() as seen:
        workflow.staff_act(
            ticket, contractor, Action.ACCEPT, assignee="李师傅", upload_dir=tmp_path, now=NOW
        )
        workflow.staff_act(
            ticket, contractor, Action.ACCEPT, assignee="李师傅", upload_dir=tmp_path, now=NOW
        )  # a double tap: no change
        workflow.staff_act(ticket, contractor, Action.START, upload_dir=tmp_path, now=NOW)
        with pytest.raises(DomainError):
            workflow.staff_act(
                ticket, contractor, Action.RESOLVE, upload_dir=tmp_path, now=NOW
            )  # no photo
        workflow.staff_act(
            ticket,
            contractor,
            Action.RESOLVE,
            upload_dir=tmp_path,
            now=NOW,
            after_photo=jpeg_with_gps((40, 30)),
        )
        workflow.resident_act(
            ticket, resident, Action.REOPEN, comment="还是漏", now=NOW + timedelta(days=1)
        )
        workflow.staff_act(
            ticket,
            contractor,
            Action.RESOLVE,
            upload_dir=tmp_path,
            now=NOW + timedelta(days=2),
            after_photo=jpeg_with_gps((40, 30)),
        )
        workflow.resident_act(
            ticket, resident, Action.CONFIRM, rating=5, now=NOW + timedelta(days=3)
        )
    c, r = contractor.id, resident.id
    assert seen == [
        (ticket.id, Status.SUBMITTED, Status.ACCEPTED, c, Status.ACCEPTED),
        (ticket.id, Status.ACCEPTED, Status.IN_PROGRESS, c, Status.IN_PROGRESS),
        (ticket.id, Status.IN_PROGRESS, Status.RESOLVED, c, Status.RESOLVED),
        (ticket.id, Status.RESOLVED, Status.IN_PROGRESS, r, Status.IN_PROGRESS),
        (ticket.id, Status.IN_PROGRESS, Status.RESOLVED, c, Status.RESOLVED),
        (ticket.id, Status.RESOLVED, Status.CONFIRMED, r, Status.CONFIRMED),
    ]
    assert len(ticket.photos) == 2  # each "after" photo saved with its transition


def test_a_rejection_and_the_automatic_close_are_announced_once(estate, tmp_path):
    manager = estate["manager"]
    lawn = report(estate, tmp_path, facility=estate["lawn"], request_key="k2")
    other = report(estate, tmp_path, facility=estate["lawn"], request_key="k3")
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
    with heard() as seen:
        workflow.staff_act(lawn, manager, Action.REJECT, note="重复报修", upload_dir=tmp_path)
        assert workflow.auto_close(NOW + timedelta(days=8)) == 1
        assert workflow.auto_close(NOW + timedelta(days=9)) == 0
    assert seen == [
        (lawn.id, Status.SUBMITTED, Status.REJECTED, manager.id, Status.REJECTED),
        (other.id, Status.RESOLVED, Status.CLOSED, None, Status.CLOSED),
    ]


def test_a_contractor_handing_a_report_back_is_announced_once(estate, tmp_path):
    ticket = report(estate, tmp_path)
    contractor = estate["contractor"]
    workflow.staff_act(
        ticket, contractor, Action.ACCEPT, assignee="李师傅", upload_dir=tmp_path, now=NOW
    )
    with heard() as seen:
        workflow.staff_act(
            ticket, contractor, Action.REJECT, note="不是施工质量问题", upload_dir=tmp_path, now=NOW
        )
        with pytest.raises(DomainError):  # not theirs any more
            workflow.staff_act(
                ticket, contractor, Action.REJECT, note="再退一次", upload_dir=tmp_path, now=NOW
            )
    assert seen == [(ticket.id, Status.ACCEPTED, Status.SUBMITTED, contractor.id, Status.SUBMITTED)]


def test_the_reporter_hears_each_step_and_the_staff_of_the_report(estate, tmp_path):
    import sqlalchemy as sa

    from app.accounts.models import InboxMessage

    def kinds(user):
        return sorted(
            db.session.scalars(sa.select(InboxMessage.kind).where(InboxMessage.user_id == user.id))
        )

    ticket = report(estate, tmp_path)
    contractor, resident = estate["contractor"], estate["resident"]
    workflow.staff_act(
        ticket, contractor, Action.ACCEPT, assignee="李师傅", upload_dir=tmp_path, now=NOW
    )
    workflow.staff_act(ticket, contractor, Action.START, upload_dir=tmp_path, now=NOW)
    workflow.staff_act(
        ticket,
        contractor,
        Action.RESOLVE,
        upload_dir=tmp_path,
        now=NOW,
        after_photo=jpeg_with_gps((40, 30)),
    )
    workflow.resident_act(ticket, resident, Action.REOPEN, comment="还是漏", now=NOW)
    assert kinds(resident) == [
        "repair_accepted",
        "repair_done",
        "repair_scheduled",
    ]  # the reopen was theirs
