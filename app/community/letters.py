"""Household letters and activation: a QR code on paper links a roster home to an
account; a reset letter gives a resident checked in person a new password."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.accounts import services as accounts
from app.accounts.models import Consent, User
from app.accounts.permissions import Capability
from app.community.models import ActivationCode, Dwelling, LetterBatch, Person
from app.core.errors import N_, DomainError, NotFound
from app.core.privacy import require_mobile
from app.core.timeutil import utcnow
from app.extensions import db

CODE_USED = N_(
    "This code has already been used. Sign in with your phone number and password instead."
)
CODE_LOCKED = N_(
    "Too many wrong phone numbers were tried with this code, so it is locked. Ask "
    "your community committee for a new letter."
)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def letter_token(secret: str, code_id: int, nonce: str) -> str:
    """The token printed on a letter: HMAC(secret, code id + batch nonce), 256 bits.

    Only its hash is stored; the batch can be printed again by recomputing it, so a
    reprint does not invalidate letters already delivered.
    """
    mac = hmac.new(secret.encode(), f"linli-letter:{code_id}:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


_log = accounts.log_access


# --- letters ---------------------------------------------------------------------------------


@dataclass
class IssuedCode:
    dwelling: Dwelling
    token: str
    expires_at: datetime
    person: Person | None = None


def issue_codes(
    dwellings: list[Dwelling],
    *,
    actor: User | None,
    days: int,
    secret: str,
    now: datetime | None = None,
) -> tuple[LetterBatch | None, list[IssuedCode]]:
    """Issue one new household letter per dwelling; earlier live letters of those homes die."""
    now = now or utcnow()
    if not dwellings:
        return None, []
    compound_id = dwellings[0].compound_id
    ids = [d.id for d in dwellings]
    try:
        db.session.execute(
            sa.update(ActivationCode)
            .where(
                ActivationCode.dwelling_id.in_(ids),
                ActivationCode.person_id.is_(None),
                ActivationCode.used_at.is_(None),
                ActivationCode.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        batch = LetterBatch(
            compound_id=compound_id,
            nonce=secrets.token_hex(16),
            created_by_id=actor.id if actor else None,
        )
        db.session.add(batch)
        db.session.flush()
        codes = [
            ActivationCode(
                dwelling_id=d.id,
                batch_id=batch.id,
                token_hash=secrets.token_hex(32),
                issued_by_id=actor.id if actor else None,
                expires_at=now + timedelta(days=days),
            )
            for d in dwellings
        ]
        issued = _spend_tokens(codes, batch, secret)
        _log(actor, compound_id, "codes_issued", f"batch {batch.id}: {len(ids)} dwellings")
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise DomainError(
            N_("Someone else issued letters for these homes at the same time. Please try again.")
        ) from exc
    return batch, issued


def issue_reset(
    person: Person,
    dwelling: Dwelling,
    *,
    actor: User,
    days: int,
    secret: str,
    now: datetime | None = None,
) -> tuple[LetterBatch, list[IssuedCode]]:
    """A password-reset letter for one person, after the committee checked them in person."""
    now = now or utcnow()
    if person.user_id is None:
        raise DomainError(N_("This person has no account yet: print the household letter."))
    if person.user.is_staff:
        raise DomainError(N_("Staff passwords are reset by the street office, not by letter."))
    db.session.execute(
        sa.update(ActivationCode)
        .where(
            ActivationCode.person_id == person.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    batch = LetterBatch(
        compound_id=person.compound_id, nonce=secrets.token_hex(16), created_by_id=actor.id
    )
    db.session.add(batch)
    db.session.flush()
    code = ActivationCode(
        dwelling_id=dwelling.id,
        person_id=person.id,
        batch_id=batch.id,
        token_hash=secrets.token_hex(32),
        issued_by_id=actor.id,
        expires_at=now + timedelta(days=min(days, 7)),
    )
    issued = _spend_tokens([code], batch, secret)
    _log(actor, person.compound_id, "reset_letter_issued", f"person {person.id}")
    db.session.commit()
    return batch, issued


def _spend_tokens(codes: list[ActivationCode], batch: LetterBatch, secret: str):
    db.session.add_all(codes)
    db.session.flush()
    issued = []
    for code in codes:
        token = letter_token(secret, code.id, batch.nonce)
        code.token_hash = hash_token(token)
        issued.append(IssuedCode(code.dwelling, token, code.expires_at, code.person))
    db.session.flush()
    return issued


def batch_letters(
    batch: LetterBatch, *, secret: str, now: datetime | None = None
) -> list[IssuedCode]:
    """The batch's letters that still work, with their tokens recomputed (for reprinting)."""
    now = now or utcnow()
    codes = db.session.scalars(
        sa.select(ActivationCode)
        .where(
            ActivationCode.batch_id == batch.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None),
            ActivationCode.expires_at > now,
        )
        .order_by(ActivationCode.id)
    )
    return [
        IssuedCode(c.dwelling, letter_token(secret, c.id, batch.nonce), c.expires_at, c.person)
        for c in codes
    ]


def get_batch_for_staff(batch_id: int, user: User) -> LetterBatch:
    """A batch of letters for staff who manage the roster of its compound, else NotFound."""
    batch = db.session.get(LetterBatch, batch_id)
    if (
        batch is None
        or not user.is_authenticated
        or not user.can(batch.compound_id, Capability.MANAGE_ROSTER)
    ):
        raise NotFound()
    return batch


def revoke_codes(dwelling: Dwelling, *, actor: User, now: datetime | None = None) -> int:
    """Revoke every live code of a dwelling (e.g. a lost letter); return how many died."""
    result = db.session.execute(
        sa.update(ActivationCode)
        .where(
            ActivationCode.dwelling_id == dwelling.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None),
        )
        .values(revoked_at=now or utcnow())
    )
    _log(actor, dwelling.compound_id, "codes_revoked", f"dwelling {dwelling.id}")
    db.session.commit()
    return result.rowcount


def live_code(dwelling: Dwelling, now: datetime | None = None) -> ActivationCode | None:
    """The dwelling's live household letter, if any."""
    now = now or utcnow()
    return db.session.scalar(
        sa.select(ActivationCode)
        .where(
            ActivationCode.dwelling_id == dwelling.id,
            ActivationCode.person_id.is_(None),
            ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None),
            ActivationCode.expires_at > now,
        )
        .order_by(ActivationCode.id.desc())
        .limit(1)
    )


# --- activation --------------------------------------------------------------------------------


class CodeProblem(DomainError):
    """The code cannot be used (unknown, used, revoked, expired or locked)."""


class FieldRefused(DomainError):
    """A refusal about one thing the person typed; field names the form field."""

    def __init__(self, field: str, message: str, **params):
        super().__init__(message, **params)
        self.field = field


def check_code(token: str, *, max_attempts: int, now: datetime | None = None) -> ActivationCode:
    """Return the live code for a token or raise CodeProblem saying why not."""
    now = now or utcnow()
    code = db.session.scalar(
        sa.select(ActivationCode).where(ActivationCode.token_hash == hash_token(token or ""))
    )
    if code is None:
        raise CodeProblem(
            N_(
                "This code is not valid. Check that you scanned the whole QR code, "
                "or ask your community committee for a new letter."
            )
        )
    if code.used_at is not None:
        raise CodeProblem(CODE_USED)
    if code.revoked_at is not None:
        raise CodeProblem(
            N_(
                "This code was replaced by a newer letter. Use the newest letter, "
                "or ask your community committee."
            )
        )
    if code.expires_at <= now:
        raise CodeProblem(
            N_("This code has expired. Ask your community committee for a new letter.")
        )
    if code.failed_attempts >= max_attempts:
        raise CodeProblem(CODE_LOCKED)
    return code


def _why_not(token: str, max_attempts: int, now: datetime, default: str) -> CodeProblem:
    """After a conditional UPDATE found the code no longer usable: the reason, read afresh."""
    db.session.expire_all()
    try:
        check_code(token, max_attempts=max_attempts, now=now)
    except CodeProblem as exc:
        return exc
    return CodeProblem(default)


def candidates(code: ActivationCode) -> list[Person]:
    """Who may use the code: the person of a reset letter, else the home's people."""
    if code.person_id is not None:
        return [code.person]
    return [m.person for m in code.dwelling.members]


def code_has_phone(code: ActivationCode) -> bool:
    return any(p.phone for p in candidates(code))


def activate(
    token: str,
    phone_text: str,
    password: str,
    *,
    consent: bool,
    max_attempts: int,
    now: datetime | None = None,
) -> User:
    """Use a letter: check the phone against the roster, then set up or link the account.

    A household letter creates an account, or adds the home to an existing account only
    with that account's password: it never resets a password. A reset letter (issued
    by the committee after checking the person in person) sets a new password for the
    account linked to that person. The code is spent with a conditional UPDATE, so a
    double tap activates once.
    """
    now = now or utcnow()
    code = check_code(token, max_attempts=max_attempts, now=now)
    dwelling = code.dwelling
    if not consent:
        raise FieldRefused("consent", N_("Please agree to the privacy notice to continue."))
    try:
        phone = require_mobile(phone_text)
    except DomainError as exc:
        raise FieldRefused("phone", exc.message) from exc
    if not code_has_phone(code):
        raise DomainError(
            N_(
                "No phone number is on file for this home. Please bring this "
                "letter to the community committee so they can check who you "
                "are in person."
            )
        )
    matches = [p for p in candidates(code) if p.phone == phone]
    if not matches:
        left = _count_failure(code, max_attempts)
        if left is None:  # other tries used up the last ones meanwhile: no answer for this one
            raise _why_not(token, max_attempts, now, CODE_LOCKED)
        raise FieldRefused(
            "phone",
            N_(
                "This phone number is not the one on the roster for "
                "this home. Tries left: %(left)s."
            ),
            left=left,
        )
    person = matches[0]
    user = db.session.scalar(sa.select(User).where(User.phone == phone))
    resetting = (
        code.person_id is not None
        and user is not None
        and person.user_id == user.id
        and not user.is_staff
    )
    if user is not None and not resetting:
        if not user.check_password(password):
            raise FieldRefused(
                "password",
                N_(
                    "This phone number already has an account. Enter that account's password to "
                    "add this home. Forgot it? Ask the committee for a password reset letter."
                ),
            )
    else:
        try:
            accounts.check_password_rules(password)
        except DomainError as exc:
            raise FieldRefused("password", exc.message, **exc.params) from exc
    spent = db.session.execute(
        sa.update(ActivationCode)
        .where(
            ActivationCode.id == code.id,
            ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None),
            ActivationCode.expires_at > now,
            ActivationCode.failed_attempts < max_attempts,
        )
        .values(used_at=now)
    )
    if spent.rowcount != 1:
        db.session.rollback()
        raise _why_not(token, max_attempts, now, CODE_USED)
    try:
        if user is None:
            user = User(phone=phone, name=person.name, password_hash="")
            user.set_password(password)
            db.session.add(user)
            db.session.flush()
        elif resetting:
            user.set_password(password)  # ends the account's other sessions
            _log(user, dwelling.compound_id, "password_reset_by_letter", f"person {person.id}")
        # Link every roster entry with this phone in the compound (one owner, many homes).
        for same in db.session.scalars(
            sa.select(Person).where(
                Person.compound_id == dwelling.compound_id, Person.phone == phone
            )
        ):
            same.user_id = user.id
        code.used_by_id = user.id
        db.session.add(
            Consent(
                user_id=user.id, purpose="privacy_notice", version=accounts.PRIVACY_NOTICE_VERSION
            )
        )
        _log(user, dwelling.compound_id, "activated", f"dwelling {dwelling.id}")
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise CodeProblem(CODE_USED) from exc
    return user


def _count_failure(code: ActivationCode, max_attempts: int) -> int | None:
    """Count a wrong phone; return the tries left, or None if the code was locked (or used)
    meanwhile. The check and the count are one conditional UPDATE, so however many tries
    arrive at once, no more than max_attempts of them are ever answered."""
    counted = db.session.execute(
        sa.update(ActivationCode)
        .where(
            ActivationCode.id == code.id,
            ActivationCode.failed_attempts < max_attempts,
            ActivationCode.used_at.is_(None),
            ActivationCode.revoked_at.is_(None),
        )
        .values(failed_attempts=ActivationCode.failed_attempts + 1)
    )
    db.session.commit()
    if counted.rowcount != 1:
        return None
    used = db.session.scalar(
        sa.select(ActivationCode.failed_attempts).where(ActivationCode.id == code.id)
    )
    return max(max_attempts - used, 0)
