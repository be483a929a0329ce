"""Accounts, staff roles scoped per compound, household activation codes, consents."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.db import UTCDateTime, created_at_column, enum_column
from app.core.timeutil import utcnow
from app.extensions import db

MIN_PASSWORD = 8  # characters (the activation form and the services check it)


def hash_password(password: str) -> str:
    """Hash a password with werkzeug's default (scrypt) unless PASSWORD_HASH_METHOD says
    otherwise (the test suite lowers the cost; production never sets it)."""
    method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
    return generate_password_hash(password, method=method) if method else \
        generate_password_hash(password)


class Role(enum.Enum):
    COMMITTEE = "committee"
    PROPERTY_MANAGER = "property_manager"
    CANTEEN_OPERATOR = "canteen_operator"
    CLASSROOM_OPERATOR = "classroom_operator"
    STREET_ADMIN = "street_admin"
    CONTRACTOR = "contractor"


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

    # The signed-in session this object was loaded for (see UserSession); not a column.
    session_key = None
    session_seen_at = None

    def set_password(self, password: str) -> None:
        """Set a new password; every session of the account ends (other phones too)."""
        self.password_hash = hash_password(password)
        if self.id is not None:
            db.session.execute(
                sa.update(UserSession)
                .where(UserSession.user_id == self.id, UserSession.revoked_at.is_(None))
                .values(revoked_at=utcnow()))

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

    @property
    def is_staff(self) -> bool:
        return bool(self.grants)


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
    created_at: Mapped[datetime] = created_at_column()

    user: Mapped[User] = relationship(back_populates="grants")
    compound = relationship("Compound")


class LetterBatch(db.Model):
    """Letters printed together; their codes can be shown again from the batch (see tokens)."""

    __tablename__ = "letter_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    nonce: Mapped[str] = mapped_column(sa.String(32))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


LIVE = "used_at IS NULL AND revoked_at IS NULL"


class ActivationCode(db.Model):
    """A single-use code: a household letter, or (person_id set) a password-reset letter.

    Only the SHA-256 of the token is stored. At most one live household letter per
    dwelling and one live reset letter per person (partial unique indexes).
    """

    __tablename__ = "activation_codes"
    __table_args__ = (
        sa.Index("uq_activation_codes_live_household", "dwelling_id", unique=True,
                 sqlite_where=sa.text(LIVE + " AND person_id IS NULL"),
                 postgresql_where=sa.text(LIVE + " AND person_id IS NULL")),
        sa.Index("uq_activation_codes_live_reset", "person_id", unique=True,
                 sqlite_where=sa.text(LIVE + " AND person_id IS NOT NULL"),
                 postgresql_where=sa.text(LIVE + " AND person_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dwelling_id: Mapped[int] = mapped_column(sa.ForeignKey("dwellings.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("people.id"))
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("letter_batches.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issued_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = created_at_column()

    dwelling = relationship("Dwelling")
    person = relationship("Person")

    def is_live(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.used_at is None and self.revoked_at is None and self.expires_at > now


class Consent(db.Model):
    """What a person agreed to, and when (PIPL)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[str] = mapped_column(sa.String(20))
    granted_at: Mapped[datetime] = created_at_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AccessLog(db.Model):
    """Who saw or changed personal data (e.g. an unmasked phone), and when."""

    __tablename__ = "access_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    compound_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compounds.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(40))
    target: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = created_at_column()
