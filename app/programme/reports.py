"""The periodic report (信息报送): the overview's figures as a spreadsheet and as JSON for
a reporting system holding a token. Aggregates only: no person's data leaves this way."""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal

import sqlalchemy as sa

from app.accounts.models import AccessLog, User
from app.community.places import Oversight
from app.core.errors import N_, DomainError, NotFound
from app.core.spreadsheet import write_table_xlsx
from app.core.timeutil import utcnow
from app.extensions import db
from app.programme.models import ReportToken
from app.programme.overview import Row

TOKEN_PREFIX = "llr_"

HEADER = [
    "小区 compound",
    "区 district",
    "街道 street office",
    "阶段 stage",
    "建成年份 year built",
    "楼栋 buildings",
    "户数 homes",
    "建筑面积 floor area (m²)",
    "意愿表决参与率 willingness turnout (%)",
    "意愿表决结果 willingness outcome",
    "管理模式 management mode",
    "应缴 owed (yuan)",
    "已收 collected (yuan)",
    "投资 investment (yuan)",
    "在修 open repairs",
    "超时 overdue repairs",
    "本月就餐 meals served this month",
    "提醒 warnings",
]


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def as_record(row: Row) -> dict:
    """One compound's figures as JSON values (money in fen, area in m² as a string)."""
    c, w = row.compound, row.willingness
    return {
        "id": c.id,
        "name": c.name,
        "district": c.district,
        "street_office": c.street_office,
        "stage": c.stage.value,
        "year_built": c.year_built,
        "accepted_on": c.accepted_on.isoformat() if c.accepted_on else None,
        "buildings": row.buildings,
        "homes": row.homes,
        "floor_area_m2": str(row.area_m2),
        "willingness": None
        if w is None
        else {
            "ballot": w.ballot_id,
            "status": w.status.value,
            "voters": w.total_voters,
            "voted": w.voted_voters,
            "outcome": w.outcome.value if w.outcome else None,
        },
        "management_mode": c.management_mode.value,
        "owed_fen": row.money.owed_fen,
        "collected_fen": row.money.collected_fen,
        "investment_fen": row.money.investment_fen,
        "open_repairs": row.repairs.open,
        "overdue_repairs": row.repairs.overdue,
        "meals_served_this_month": row.meals_served,
        "warnings": [warning.code for warning in row.warnings],
    }


def as_cells(row: Row) -> list:
    c, w = row.compound, row.willingness
    turnout = (
        round(Decimal(w.voted_voters * 100) / w.total_voters, 1) if w and w.total_voters else ""
    )
    return [
        c.name,
        c.district,
        c.street_office,
        c.stage.value,
        c.year_built or "",
        row.buildings,
        row.homes,
        Decimal(str(row.area_m2)),
        turnout,
        (w.outcome.value if w and w.outcome else (w.status.value if w else "")),
        c.management_mode.value,
        _yuan(row.money.owed_fen),
        _yuan(row.money.collected_fen),
        _yuan(row.money.investment_fen),
        row.repairs.open,
        row.repairs.overdue,
        row.meals_served,
        "; ".join(warning.text for warning in row.warnings),
    ]


def workbook(rows) -> bytes:
    return write_table_xlsx(HEADER, [as_cells(row) for row in rows], "programme")


# -- tokens -------------------------------------------------------------------------------


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def create_token(
    label: str, office_id: int | None, *, actor: User, oversight: Oversight
) -> tuple[str, ReportToken]:
    """A new token for one street office's figures (or the city's, for a city admin); the
    secret is shown once and only its hash is kept."""
    label = (label or "").strip()[:100]
    if not label:
        raise DomainError(N_("Say what the token is for."))
    if office_id is None and not oversight.city:
        raise NotFound()
    if office_id is not None and not (oversight.city or office_id in oversight.office_ids):
        raise NotFound()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ReportToken(
        token_hash=_hash(secret), label=label, street_office_id=office_id, created_by_id=actor.id
    )
    db.session.add(token)
    db.session.add(AccessLog(user_id=actor.id, action="report_token_created", target=label))
    db.session.commit()
    return secret, token


def tokens_for(oversight: Oversight) -> list[ReportToken]:
    stmt = sa.select(ReportToken).order_by(ReportToken.id.desc())
    if not oversight.city:
        stmt = stmt.where(ReportToken.street_office_id.in_(oversight.office_ids or {0}))
    return list(db.session.scalars(stmt))


def revoke_token(token_id: int, *, actor: User, oversight: Oversight) -> None:
    token = db.session.get(ReportToken, token_id)
    if token is None or not (oversight.city or (token.street_office_id in oversight.office_ids)):
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.add(
            AccessLog(user_id=actor.id, action="report_token_revoked", target=token.label)
        )
        db.session.commit()


def oversight_of_token(secret: str | None) -> Oversight | None:
    """What a presented token may read, or None (unknown, revoked or malformed)."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(sa.select(ReportToken).where(ReportToken.token_hash == _hash(secret)))
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = utcnow()
    db.session.commit()
    if token.street_office_id is None:
        return Oversight(True, frozenset())
    return Oversight(False, frozenset({token.street_office_id}))
