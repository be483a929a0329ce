"""Staff accounts from the web, for a street office or the city: the command line's
rules (`flask staff create`), and no more power than the person has. A new number gets a
new account; an existing staff account only gains the role, and only when every role it
holds is in compounds the person oversees: its password and name are never changed from
here (that would hand its other compounds to whoever typed the new password)."""

from __future__ import annotations

import sqlalchemy as sa

from app.accounts import services as accounts
from app.accounts.models import Role, RoleGrant, User
from app.community import places
from app.community.models import Compound
from app.community.places import Oversight
from app.core.errors import N_, DomainError, FieldError
from app.core.privacy import normalize_mobile
from app.extensions import db


def add_staff(
    phone_text: str,
    name: str,
    password: str | None,
    role: Role,
    compound: Compound,
    *,
    oversight: Oversight,
) -> User:
    try:
        phone = normalize_mobile(phone_text)
    except ValueError:
        phone = None
    if not phone:
        raise FieldError("phone", N_("Enter an 11-digit mobile number."))
    existing = db.session.scalar(sa.select(User).where(User.phone == phone))
    if existing is None:
        if not password:
            raise FieldError("password", N_("A new account needs a password."))
        try:
            return accounts.create_staff(phone, name, password, [(role, compound)])
        except DomainError as exc:  # the password rules: shown next to the password
            raise FieldError("password", exc.message, **exc.params) from exc
    if not existing.grants or existing.office_grants:
        raise FieldError(
            "phone",
            N_(
                "This number belongs to an account you do not manage (a resident's, or "
                "another office's). Use another number, or ask the city's administrator."
            ),
        )
    overseen = places.overseen_compounds(oversight)
    outside = db.session.scalar(
        sa.select(sa.func.count(RoleGrant.id)).where(
            RoleGrant.user_id == existing.id, RoleGrant.compound_id.not_in(overseen)
        )
    )
    if outside:
        raise FieldError(
            "phone",
            N_(
                "This number belongs to an account you do not manage (a resident's, or "
                "another office's). Use another number, or ask the city's administrator."
            ),
        )
    if password:
        raise FieldError(
            "password",
            N_(
                "This number already has an account. Leave the password empty to give it "
                "the role; its owner keeps their password."
            ),
        )
    return accounts.create_staff(phone, existing.name, None, [(role, compound)])
