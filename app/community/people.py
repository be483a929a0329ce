"""People's contact data on the roster (PIPL): numbers checked in person, full numbers
shown to staff who need them (logged), contact data deleted on request."""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa

from app.accounts import services as accounts
from app.accounts.models import User
from app.community.models import Person
from app.core.errors import N_, DomainError
from app.core.privacy import require_mobile
from app.core.timeutil import utcnow
from app.extensions import db

_log = accounts.log_access


def set_phone_in_person(person: Person, phone_text: str, *, actor: User) -> None:
    """Record a phone a committee member checked in person, for someone with none on file."""
    if person.phone:
        raise DomainError(N_("This person already has a phone number on file."))
    phone = require_mobile(phone_text)
    taken = db.session.scalar(
        sa.select(Person.id).where(
            Person.compound_id == person.compound_id, Person.phone == phone, Person.id != person.id
        )
    )
    if taken:
        raise DomainError(N_("This number is already on the roster for someone else."))
    person.phone = phone
    _log(actor, person.compound_id, "phone_verified_in_person", f"person {person.id}")
    db.session.commit()


def reveal_phone(person: Person, *, actor: User) -> str | None:
    """Return a person's full phone for staff who need it; the view is logged."""
    _log(actor, person.compound_id, "phone_viewed", f"person {person.id}")
    db.session.commit()
    return person.phone


def closes_account(person: Person) -> bool:
    """Whether deleting the person's contact data closes their account: it is used for
    nobody else and holds no staff role."""
    user = person.user
    if user is None or user.is_staff:
        return False
    others = db.session.scalar(
        sa.select(sa.func.count(Person.id)).where(Person.user_id == user.id, Person.id != person.id)
    )
    return not others


def delete_contact(person: Person, *, actor: User, now: datetime | None = None) -> None:
    """Delete a person's contact data on request (PIPL); the home and its records stay.

    The phone leaves the roster identity too, and an account used only for this person
    is closed (its sign-in number is erased).
    """
    now = now or utcnow()
    user, close = person.user, closes_account(person)
    person.phone = None
    person.owner_key = f"deleted:{person.id}"
    person.contact_deleted_at = now
    person.user_id = None
    if close:
        user.phone = f"x{user.id:010d}"[:11]
        user.name = "-"
        user.active = False
        user.set_password(secrets.token_hex(16))
    _log(actor, person.compound_id, "contact_deleted", f"person {person.id}")
    db.session.commit()
