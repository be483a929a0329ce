"""What the repair use cases share: refusals that name their fields, the photos' check, the
residents' compounds and who may see or act on a ticket."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from app.accounts.models import User
from app.accounts.permissions import Capability
from app.community.services import dwellings_of
from app.core import photos as photo_rules
from app.core.errors import N_, DomainError, NotFound
from app.core.settings import policy_for
from app.extensions import db
from app.repairs import rules
from app.repairs.models import Ticket
from app.repairs.rules import Route, Status

CLOSED = {Status.CONFIRMED, Status.CLOSED, Status.REJECTED}


class FieldErrors(DomainError):
    """Several problems at once, each for a named field of the form that was sent, so the
    page can show every one next to its field."""

    def __init__(self, problems: dict[str, list[DomainError]]):
        first = next(iter(problems.values()))[0]
        super().__init__(first.message, **first.params)
        self.problems = problems


def refuse_if(problems: dict[str, list[DomainError]]) -> None:
    if problems:
        raise FieldErrors(problems)


def targets(compound_id: int) -> dict[rules.Priority, rules.Targets]:
    """The compound's response and resolution targets (local policy)."""
    return rules.targets_from(policy_for(compound_id))


def confirm_window(compound_id: int) -> timedelta:
    """How long after a repair its reporter may confirm or reopen it (local policy)."""
    return timedelta(days=policy_for(compound_id).confirm_window_days)


def resident_compounds(user: User) -> set[int]:
    """The compounds where the user has a home."""
    return {d.compound_id for d in dwellings_of(user)}


def prepare_photos(
    photos: Sequence[bytes | photo_rules.PreparedPhoto],
    limit: int,
    problems: dict[str, list[DomainError]],
    field: str = "photos",
) -> list[photo_rules.PreparedPhoto]:
    """Check every photo (nothing is written yet); add each problem to `problems`."""
    if len(photos) > limit:
        problems.setdefault(field, []).append(
            DomainError(N_("At most %(n)s photos."), n=limit)
            if limit > 1
            else DomainError(N_("At most one photo."))
        )
        return []
    prepared, errors = [], []
    for number, data in enumerate(photos, start=1):
        if isinstance(data, photo_rules.PreparedPhoto):
            prepared.append(data)
            continue
        try:
            prepared.append(photo_rules.prepare(data))
        except DomainError as exc:
            errors.append(
                exc
                if len(photos) == 1
                else DomainError(N_("Photo %(n)s: %(problem)s"), n=number, problem=exc)
            )
    if errors:
        problems.setdefault(field, []).extend(errors)
    return prepared


def remove_files(upload_dir: Path, stored) -> None:
    for item in stored:
        (upload_dir / item.name).unlink(missing_ok=True)


def get_ticket_for_resident(ticket_id: int, user: User) -> Ticket:
    """My ticket, one I follow, or a common-area ticket of my compound; else NotFound."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not user.is_authenticated:
        raise NotFound()
    if ticket.reporter_id == user.id:
        return ticket
    if ticket.is_common and ticket.compound_id in resident_compounds(user):
        return ticket
    raise NotFound()


def can_manage(user: User, ticket: Ticket) -> bool:
    """Property manager or street office; or the contractor the ticket is routed to."""
    if user.can(ticket.compound_id, Capability.HANDLE_REPAIRS):
        return True
    return (
        ticket.route is Route.CONTRACTOR
        and ticket.contractor_id == user.id
        and user.can(ticket.compound_id, Capability.WORK_ON_REPAIRS)
    )


def get_ticket_for_staff(ticket_id: int, user: User) -> Ticket:
    """A ticket of the user's compound (contractors: only tickets routed to them)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not user.is_authenticated:
        raise NotFound()
    if user.can(ticket.compound_id, Capability.HANDLE_REPAIRS) or can_manage(user, ticket):
        return ticket
    raise NotFound()
