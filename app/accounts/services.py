"""Account use cases: household activation codes, sign-in, staff accounts."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.accounts.models import AccessLog, ActivationCode, Consent, Role, RoleGrant, User
from app.community.models import Compound, Dwelling, Person
from app.core.errors import N_, DomainError
from app.core.privacy import normalize_mobile
from app.core.timeutil import utcnow
from app.extensions import db

PRIVACY_NOTICE_VERSION = "2026-11"
MIN_PASSWORD = 8


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """Return a fresh activation token: 32 random bytes (256 bits), URL-safe."""
    return secrets.token_urlsafe(32)


@dataclass
class IssuedCode:
    dwelling: Dwelling
    token: str
    expires_at: datetime


def issue_codes(dwellings: list[Dwelling], *, actor: User | None, days: int,
                now: datetime | None = None) -> list[IssuedCode]:
    """Issue one new code per dwelling; any earlier live code of those dwellings dies.

    Only the hash is stored, so the letters must be printed from this result.
    """
    now = now or utcnow()
    ids = [d.id for d in dwellings]
    if not ids:
        return []
    db.session.execute(
        sa.update(ActivationCode)
        .where(ActivationCode.dwelling_id.in_(ids), ActivationCode.used_at.is_(None),
               ActivationCode.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    issued = []
    expires = now + timedelta(days=days)
    for dwelling in dwellings:
        token = new_token()
        db.session.add(ActivationCode(dwelling_id=dwelling.id, token_hash=hash_token(token),
                                      issued_by_id=actor.id if actor else None,
                                      expires_at=expires))
        issued.append(IssuedCode(dwelling, token, expires))
    compound_id = dwellings[0].compound_id
    db.session.add(AccessLog(user_id=actor.id if actor else None, compound_id=compound_id,
                             action="codes_issued", target=f"{len(ids)} dwellings"))
    db.session.commit()
    return issued


def revoke_codes(dwelling: Dwelling, *, actor: User, now: datetime | None = None) -> int:
    """Revoke every live code of a dwelling; return how many died."""
    result = db.session.execute(
        sa.update(ActivationCode)
        .where(ActivationCode.dwelling_id == dwelling.id, ActivationCode.used_at.is_(None),
               ActivationCode.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    db.session.add(AccessLog(user_id=actor.id, compound_id=dwelling.compound_id,
                             action="codes_revoked", target=f"dwelling {dwelling.id}"))
    db.session.commit()
    return result.rowcount


def live_code(dwelling: Dwelling, now: datetime | None = None) -> ActivationCode | None:
    """Return the dwelling's live code, if any."""
    now = now or utcnow()
    return db.session.scalar(
        sa.select(ActivationCode).where(
            ActivationCode.dwelling_id == dwelling.id, ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None), ActivationCode.expires_at > now)
        .order_by(ActivationCode.id.desc()).limit(1))


class CodeProblem(DomainError):
    """The code cannot be used (unknown, used, revoked, expired or locked)."""


def check_code(token: str, *, max_attempts: int, now: datetime | None = None) -> ActivationCode:
    """Return the live code for a token or raise CodeProblem saying why not."""
    now = now or utcnow()
    code = db.session.scalar(
        sa.select(ActivationCode).where(ActivationCode.token_hash == hash_token(token or "")))
    if code is None:
        raise CodeProblem(N_("This code is not valid. Check that you scanned the whole QR code, "
                             "or ask your community committee for a new letter."))
    if code.used_at is not None:
        raise CodeProblem(N_("This code has already been used. Sign in with your phone number "
                             "and password instead."))
    if code.revoked_at is not None:
        raise CodeProblem(N_("This code was replaced by a newer letter. Use the newest letter, "
                             "or ask your community committee."))
    if code.expires_at <= now:
        raise CodeProblem(N_("This code has expired. Ask your community committee for a new "
                             "letter."))
    if code.failed_attempts >= max_attempts:
        raise CodeProblem(N_("Too many wrong phone numbers were tried with this code, so it is "
                             "locked. Ask your community committee for a new letter."))
    return code


def dwelling_has_phone(dwelling: Dwelling) -> bool:
    return any(m.person.phone for m in dwelling.members)


def activate(token: str, phone_text: str, password: str, *, consent: bool, max_attempts: int,
             now: datetime | None = None) -> User:
    """Activate a household code: check the phone is on the roster, set up the account.

    The code is spent with a conditional UPDATE, so a double tap activates once.
    """
    now = now or utcnow()
    code = check_code(token, max_attempts=max_attempts, now=now)
    dwelling = code.dwelling
    if not consent:
        raise DomainError(N_("Please agree to the privacy notice to continue."))
    try:
        phone = normalize_mobile(phone_text)
    except ValueError:
        phone = None
    if not phone:
        raise DomainError(N_("Enter your 11-digit mobile number."))
    if not dwelling_has_phone(dwelling):
        raise DomainError(N_("No phone number is on file for this home. Please bring this "
                             "letter to the community committee so they can check who you "
                             "are in person."))
    matches = [m.person for m in dwelling.members if m.person.phone == phone]
    if not matches:
        db.session.execute(
            sa.update(ActivationCode).where(ActivationCode.id == code.id)
            .values(failed_attempts=ActivationCode.failed_attempts + 1))
        db.session.commit()
        left = max_attempts - code.failed_attempts
        raise DomainError(N_("This phone number is not the one on the roster for this home. "
                             "%(left)s tries left."), left=max(left, 0))
    person = matches[0]
    user = db.session.scalar(sa.select(User).where(User.phone == phone))
    if user is not None and user.is_staff:
        # A staff account is never taken over with a household letter.
        if not user.check_password(password):
            raise DomainError(N_("This phone number belongs to a staff account. Enter that "
                                 "account's password to add this home."))
    else:
        # The letter and the phone on the roster prove who it is, as at first activation,
        # so a resident who forgot the password sets a new one with a new letter.
        _check_password_rules(password)
    spent = db.session.execute(
        sa.update(ActivationCode)
        .where(ActivationCode.id == code.id, ActivationCode.used_at.is_(None),
               ActivationCode.revoked_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        db.session.rollback()
        raise CodeProblem(N_("This code has already been used. Sign in with your phone number "
                             "and password instead."))
    try:
        if user is None:
            user = User(phone=phone, name=person.name, password_hash="")
            user.set_password(password)
            db.session.add(user)
            db.session.flush()
        elif not user.is_staff and not user.check_password(password):
            user.set_password(password)  # ends the account's other sessions
            db.session.add(AccessLog(user_id=user.id, compound_id=dwelling.compound_id,
                                     action="password_set_by_letter",
                                     target=f"dwelling {dwelling.id}"))
        # Link every roster entry with this phone in the compound (one owner, many homes).
        for same in db.session.scalars(sa.select(Person).where(
                Person.compound_id == dwelling.compound_id, Person.phone == phone)):
            same.user_id = user.id
        code.used_by_id = user.id
        db.session.add(Consent(user_id=user.id, purpose="privacy_notice",
                               version=PRIVACY_NOTICE_VERSION))
        db.session.add(AccessLog(user_id=user.id, compound_id=dwelling.compound_id,
                                 action="activated", target=f"dwelling {dwelling.id}"))
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise CodeProblem(N_("This code has already been used. Sign in with your phone number "
                             "and password instead.")) from exc
    return user


def _check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise DomainError(N_("Choose a password of at least %(n)s characters."), n=MIN_PASSWORD)
    if len(password) > 128:
        raise DomainError(N_("That password is too long."))


def authenticate(phone_text: str, password: str) -> User | None:
    """Return the active user with this phone and password, else None."""
    try:
        phone = normalize_mobile(phone_text)
    except ValueError:
        return None
    if not phone:
        return None
    user = db.session.scalar(sa.select(User).where(User.phone == phone))
    if user is None or not user.password_hash or not user.check_password(password or ""):
        return None
    if not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def load_user(user_id: str) -> User | None:
    """Flask-Login loader: the id carries the session version, so old sessions end."""
    try:
        uid, version = (int(x) for x in str(user_id).split(":"))
    except ValueError:
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_version != version:
        return None
    return user


def create_staff(phone_text: str, name: str, password: str, grants: list[tuple[Role, Compound]]
                 ) -> User:
    """Create or update a staff account and give it roles in compounds."""
    try:
        phone = normalize_mobile(phone_text)
    except ValueError:
        phone = None
    if not phone:
        raise DomainError(N_("Enter an 11-digit mobile number."))
    user = db.session.scalar(sa.select(User).where(User.phone == phone))
    if user is None:
        _check_password_rules(password)
        user = User(phone=phone, name=name, password_hash="")
        user.set_password(password)
        db.session.add(user)
    elif password:
        _check_password_rules(password)
        user.set_password(password)
    user.name = name or user.name
    db.session.flush()
    have = {(g.role, g.compound_id) for g in user.grants}
    for role, compound in grants:
        if (role, compound.id) not in have:
            user.grants.append(RoleGrant(role=role, compound_id=compound.id))
    db.session.commit()
    return user


def set_phone_in_person(person: Person, phone_text: str, *, actor: User) -> None:
    """Record a phone a committee member checked in person (for residents with none on file)."""
    try:
        phone = normalize_mobile(phone_text)
    except ValueError:
        phone = None
    if not phone:
        raise DomainError(N_("Enter an 11-digit mobile number."))
    person.phone = phone
    person.contact_deleted_at = None
    db.session.add(AccessLog(user_id=actor.id, compound_id=person.compound_id,
                             action="phone_verified_in_person", target=f"person {person.id}"))
    db.session.commit()


def reveal_phone(person: Person, *, actor: User) -> str | None:
    """Return a person's full phone for staff who need it; the view is logged."""
    db.session.add(AccessLog(user_id=actor.id, compound_id=person.compound_id,
                             action="phone_viewed", target=f"person {person.id}"))
    db.session.commit()
    return person.phone


def delete_contact(person: Person, *, actor: User, now: datetime | None = None) -> None:
    """Delete a person's contact data on request; decision records keep the dwelling."""
    person.phone = None
    person.contact_deleted_at = now or utcnow()
    db.session.add(AccessLog(user_id=actor.id, compound_id=person.compound_id,
                             action="contact_deleted", target=f"person {person.id}"))
    db.session.commit()

