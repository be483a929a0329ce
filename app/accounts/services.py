"""Account use cases: sign-in, sessions, staff accounts. Residents' accounts are made
from a roster letter (community.letters), which calls back into check_password_rules and
start_session here."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash

from app.accounts.models import (
    MIN_PASSWORD,
    AccessLog,
    InboxMessage,
    Role,
    RoleGrant,
    User,
    UserSession,
    hash_password,
)
from app.core import events
from app.core.errors import N_, DomainError
from app.core.privacy import normalize_mobile, require_mobile
from app.core.security import form_id
from app.core.timeutil import utcnow
from app.extensions import db

PRIVACY_NOTICE_VERSION = "2026-11"


def _log(actor: User | None, compound_id: int | None, action: str, target: str = "") -> None:
    db.session.add(
        AccessLog(
            user_id=actor.id if actor else None,
            compound_id=compound_id,
            action=action,
            target=target,
        )
    )


def log_access(actor: User | None, compound_id: int | None, action: str, target: str = "") -> None:
    """Record who saw or changed personal data (added to the caller's transaction)."""
    _log(actor, compound_id, action, target)


def check_password_rules(password: str) -> None:
    """A new password: at least MIN_PASSWORD characters, at most 128."""
    if len(password or "") < MIN_PASSWORD:
        raise DomainError(N_("Choose a password of at least %(n)s characters."), n=MIN_PASSWORD)
    if len(password) > 128:
        raise DomainError(N_("That password is too long."))


# --- sign-in ---------------------------------------------------------------------------------


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(8))


def authenticate(phone_text: str, password: str) -> User | None:
    """Return the active user with this phone and password, else None (in similar time)."""
    try:
        phone = normalize_mobile(phone_text)
    except ValueError:
        phone = None
    user = db.session.scalar(sa.select(User).where(User.phone == phone)) if phone else None
    if user is None or not user.password_hash:
        check_password_hash(_dummy_hash(), password or "")  # no timing hint of who exists
        return None
    if not user.check_password(password or "") or not user.active:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


# --- sessions ---------------------------------------------------------------------------------

# How often a sign-in's last-seen time is rewritten: coarse, so requests stay read-only.
SEEN_EVERY = timedelta(hours=1)

_AGENT_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("HarmonyOS", "HarmonyOS"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Macintosh", "Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
_AGENT_APPS = (
    ("MicroMessenger", "WeChat"),
    ("AlipayClient", "Alipay"),
    ("QQ/", "QQ"),
    ("UCBrowser", "UC"),
    ("HuaweiBrowser", "Huawei Browser"),
    ("MiuiBrowser", "Mi Browser"),
    ("Edg/", "Edge"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)


def agent_summary(user_agent: str | None) -> str:
    """A short name for a phone or browser ("Android · WeChat"), from its User-Agent."""
    text = user_agent or ""
    system = next((name for mark, name in _AGENT_SYSTEMS if mark in text), "")
    app = next((name for mark, name in _AGENT_APPS if mark in text), "")
    return " · ".join(part for part in (system, app) if part)[:60]


def start_session(user: User, *, user_agent: str = "", now: datetime | None = None) -> str:
    """Record a new sign-in of the account on one phone or browser; return its key.

    The account's sign-ins that ended, or that nobody used for longer than a session
    lives, are cleared at the same time (so the table stays small).
    """
    now = now or utcnow()
    idle = current_app.config["PERMANENT_SESSION_LIFETIME"]
    db.session.execute(
        sa.delete(UserSession).where(
            UserSession.user_id == user.id,
            sa.or_(UserSession.revoked_at.is_not(None), UserSession.last_seen_at < now - idle),
        )
    )
    key = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            id=key,
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            user_agent=agent_summary(user_agent),
        )
    )
    db.session.commit()
    user.session_key, user.session_seen_at = key, now
    return key


@cache
def _signed_in():
    """Built once (every signed-in request runs it; only the values change)."""
    unread = (
        sa.select(sa.func.count(InboxMessage.id))
        .where(InboxMessage.user_id == User.id, InboxMessage.read_at.is_(None))
        .correlate(User)
        .scalar_subquery()
    )
    return (
        sa.select(User, UserSession.last_seen_at, unread)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            User.id == sa.bindparam("uid"),
            User.active.is_(True),
            UserSession.id == sa.bindparam("key"),
            UserSession.revoked_at.is_(None),
            UserSession.last_seen_at > sa.bindparam("seen_after"),
        )
        .options(joinedload(User.grants))  # every page asks what the user may do
    )


def load_user(user_id: str) -> User | None:
    """Flask-Login loader for "<user id>:<session key>", in one query: the account if it
    is active and that sign-in was not ended and was used lately; otherwise None."""
    uid_text, _, key = str(user_id).partition(":")
    uid = form_id(uid_text)
    if uid is None or not 32 <= len(key) <= 43:
        return None
    idle = current_app.config["PERMANENT_SESSION_LIFETIME"]
    row = (
        db.session.execute(_signed_in(), {"uid": uid, "key": key, "seen_after": utcnow() - idle})
        .unique()
        .first()
    )
    if row is None:
        return None
    user, seen, unread = row
    user.session_key, user.session_seen_at = key, seen
    user.unread = unread  # the header's count of unread messages, in the same query
    return user


def note_seen(user: User, now: datetime | None = None) -> None:
    """Move the sign-in's last-seen time forward, at most once per SEEN_EVERY."""
    now = now or utcnow()
    seen = getattr(user, "session_seen_at", None)
    if not user.session_key or seen is None or now - seen < SEEN_EVERY:
        return
    db.session.execute(
        sa.update(UserSession).where(UserSession.id == user.session_key).values(last_seen_at=now)
    )
    db.session.commit()
    user.session_seen_at = now


def end_session(user: User, now: datetime | None = None) -> None:
    """Sign out on this phone or browser only: its cookies open nothing any more."""
    if user.session_key:
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.id == user.session_key, UserSession.revoked_at.is_(None))
            .values(revoked_at=now or utcnow())
        )
        db.session.commit()


def sign_out_everywhere(user: User, now: datetime | None = None) -> None:
    """End every session of this account (all phones and browsers)."""
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    db.session.commit()


def set_locale(user: User, locale: str) -> None:
    """Remember the account's language."""
    user.locale = locale
    db.session.commit()


@events.locale_chosen.connect
def _remember_locale(user, code: str, **_extra) -> None:
    set_locale(user, code)


# --- staff ------------------------------------------------------------------------------------


def needs_password(phone_text: str) -> bool:
    """Whether creating staff for this number makes a new account (which needs a password)."""
    try:
        phone = normalize_mobile(phone_text)
    except ValueError:
        return False
    return bool(phone) and db.session.scalar(sa.select(User.id).where(User.phone == phone)) is None


def create_staff(
    phone_text: str,
    name: str,
    password: str | None,
    grants: list[tuple[Role, object]],
    *,
    allow_resident: bool = False,
) -> User:
    """Create a staff account, or add roles to one (its password changes only if given)."""
    if any(role is Role.CITY_ADMIN for role, _compound in grants):
        raise DomainError(N_("The city admin role is held over the whole city, not a compound."))
    phone = require_mobile(phone_text)
    user = db.session.scalar(sa.select(User).where(User.phone == phone))
    if user is None:
        if not password:
            raise DomainError(N_("A new account needs a password."))
        check_password_rules(password)
        user = User(phone=phone, name=name, password_hash="")
        user.set_password(password)
        db.session.add(user)
    else:
        if not user.is_staff and not allow_resident:
            raise DomainError(
                N_(
                    "This phone number belongs to a resident's account. Add "
                    "roles to it only on purpose (--allow-resident)."
                )
            )
        if password:
            check_password_rules(password)
            user.set_password(password)
    user.name = name or user.name
    db.session.flush()
    have = {(g.role, g.compound_id) for g in user.grants}
    for role, compound in grants:
        if (role, compound.id) not in have:
            user.grants.append(RoleGrant(role=role, compound_id=compound.id))
    db.session.commit()
    return user
