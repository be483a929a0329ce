"""Report tokens: the periodic report's figures as JSON for a machine, per street office
or for the whole city, each revocable."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, created_at_column
from app.extensions import db


class ReportToken(db.Model):
    """A secret a reporting system sends as `Authorization: Bearer …`; only its hash is
    kept. No street office means the whole city."""

    __tablename__ = "report_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str] = mapped_column(sa.String(100))
    street_office_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("street_offices.id"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
