"""Accounts, staff roles scoped per compound, household activation codes, consents."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.permissions import ROLE_CAPABILITIES, Capability
from app.accounts.roles import Role  # noqa: F401  (re-exported)
from app.core.db import UTCDateTime, created_at_column, enum_column
from app.core.timeutil import utcnow
from app.extensions import db

MIN_PASSWORD = 8  # characters (the activation form and the services check it)


def hash_password(password: str) -> str:
    """Hash a password with werkzeug's default (scrypt) unless PASSWORD_HASH_METHOD says
    otherwise (the test suite lowers the cost; production never sets it)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
    return (
        generate_password_hash(password, method=method)
        if method
        else generate_password_hash(password)
    )


class User(UserMixin, db.Model):
    """A sign-in account (phone + password). Residents link to roster people."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(11), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()

    people = relationship("Person", back_populates="user")
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    office_grants: Mapped[list[OfficeGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="select"
    )

    # The signed-in session this object was loaded for (see UserSession); not a column.
    session_key = None
    session_seen_at = None
    unread = 0  # unread inbox messages, counted when the sign-in is loaded

    def set_password(self, password: str) -> None:
        """Set a new password; every session of the account ends (other phones too)."""
        self.password_hash = hash_password(password)
        if self.id is not None:
            db.session.execute(
                sa.update(UserSession)
                .where(UserSession.user_id == self.id, UserSession.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:
        """Flask-Login's id, kept in the session and the remember cookie: the account and
        the random key of this sign-in, so ending the sign-in ends both cookies."""
        return f"{self.id}:{self.session_key or ''}"

    def compound_ids_for(self, *roles: Role) -> set[int]:
        """Return the compounds where this user holds any of the roles (all roles if none)."""
        return {g.compound_id for g in self.grants if not roles or g.role in roles}

    def has_role(self, compound_id: int, *roles: Role) -> bool:
        return compound_id in self.compound_ids_for(*roles)

    def compound_ids_with(self, *capabilities: Capability) -> set[int]:
        """The compounds where this user's roles give any of the capabilities."""
        wanted = set(capabilities)
        return {g.compound_id for g in self.grants if ROLE_CAPABILITIES[g.role] & wanted}

    def can(self, compound_id: int, *capabilities: Capability) -> bool:
        """Whether this user may do any of these things in the compound."""
        return compound_id in self.compound_ids_with(*capabilities)

    @property
    def is_staff(self) -> bool:
        return bool(self.grants) or bool(self.office_grants)


class UserSession(db.Model):
    """One sign-in on one phone or browser, named by a random key.

    The key travels in the session cookie and the remember cookie (inside Flask-Login's
    id); the user loader accepts a cookie only while its row is not revoked and was seen
    lately. Signing out revokes this row alone; "sign out everywhere" and a new password
    revoke them all. last_seen_at is coarse (rewritten at most hourly).
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(sa.String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the phone or browser was ("Android · WeChat"), so a person can tell them apart.
    user_agent: Mapped[str] = mapped_column(sa.String(60), default="")


class RoleGrant(db.Model):
    __tablename__ = "role_grants"
    __table_args__ = (sa.UniqueConstraint("user_id", "role", "compound_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    # Set when the role comes from a street-office admin's office grant (one row per
    # compound of that street office, kept in step as compounds are added or moved).
    office_grant_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("office_grants.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()

    user: Mapped[User] = relationship(back_populates="grants")
    compound = relationship("Compound")


class OfficeGrant(db.Model):
    """A role above the compound: street-office admin over every compound of one street
    office (those created later too), or city admin (no street office) over all."""

    __tablename__ = "office_grants"
    __table_args__ = (sa.UniqueConstraint("user_id", "role", "street_office_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    street_office_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("street_offices.id"), index=True
    )
    created_at: Mapped[datetime] = created_at_column()

    user: Mapped[User] = relationship(back_populates="office_grants")


class Consent(db.Model):
    """What a person agreed to, and when (PIPL)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[str] = mapped_column(sa.String(20))
    granted_at: Mapped[datetime] = created_at_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class InboxMessage(db.Model):
    """Something that happened which concerns this account (a vote opened, a payment
    confirmed, a repair done), with a link to it. The words are chosen when it is shown,
    in the reader's language, from `kind` and `params`; `key` names the event and keeps
    it to one message per person however often the event is announced."""

    __tablename__ = "inbox_messages"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "key"),
        sa.Index("ix_inbox_messages_unread", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    compound_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    params: Mapped[str] = mapped_column(sa.Text, default="{}")  # JSON
    endpoint: Mapped[str | None] = mapped_column(sa.String(80))
    url_args: Mapped[str] = mapped_column(sa.Text, default="{}")  # JSON
    key: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = created_at_column()
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccessLog(db.Model):
    """Who saw or changed personal data (e.g. an unmasked phone), and when."""

    __tablename__ = "access_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    target: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = created_at_column()
