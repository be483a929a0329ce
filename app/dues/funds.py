"""The maintenance fund: decisions that let it pay an item, emergency use, balances
imported from the housing authority's spreadsheet (checked, previewed, confirmed)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.accounts.models import AccessLog, User
from app.community import roster as roster_rules
from app.community.models import Building, Compound, Dwelling, Unit
from app.core.errors import N_, DomainError, NotFound
from app.core.money import MoneyError, parse_yuan
from app.core.spreadsheet import FileRejected, Problem, SpreadsheetError, read_records
from app.core.timeutil import utcnow
from app.decisions.models import Ballot, BallotKind, BallotStatus, Scope
from app.decisions.rules import Outcome
from app.dues import rules
from app.dues.errors import FieldError
from app.dues.models import (
    CostItem,
    FundAccount,
    FundImportPreview,
    FundMovement,
)
from app.dues.shared import MAX_PAYMENT_FEN, _lock_homes
from app.extensions import db


def fund_decision_passed(ballot: Ballot | None, dwelling: Dwelling) -> bool:
    """A published, passed "use the maintenance fund" decision that covers this home."""
    if ballot is None or ballot.kind is not BallotKind.FUND_USE:
        return False
    if ballot.status is not BallotStatus.PUBLISHED or ballot.outcome is not Outcome.PASSED:
        return False
    return ballot.covers(dwelling)


def fund_ballots(compound: Compound) -> list[Ballot]:
    """The compound's passed and published "use the maintenance fund" decisions."""
    return list(
        db.session.scalars(
            sa.select(Ballot)
            .where(
                Ballot.compound_id == compound.id,
                Ballot.kind == BallotKind.FUND_USE,
                Ballot.status == BallotStatus.PUBLISHED,
                Ballot.outcome == Outcome.PASSED,
            )
            .order_by(Ballot.published_at.desc())
        )
    )


INCOME_USE_KINDS = (BallotKind.FUND_USE, BallotKind.GENERAL)


def passed_ballots(compound: Compound) -> list[Ballot]:
    """Published, passed owner decisions of a kind that can put public income to use (a
    fund decision or a general one — not a renovation, elevator or management vote)."""
    return list(
        db.session.scalars(
            sa.select(Ballot)
            .where(
                Ballot.compound_id == compound.id,
                Ballot.status == BallotStatus.PUBLISHED,
                Ballot.kind.in_(INCOME_USE_KINDS),
                Ballot.outcome == Outcome.PASSED,
                Ballot.scope == Scope.COMPOUND,
            )  # income of the common parts: all owners decide
            .order_by(Ballot.published_at.desc())
        )
    )


def link_fund_decision(item: CostItem, ballot_id: int | None) -> None:
    if ballot_id is None:
        item.fund_ballot_id = None
    else:
        compound = db.session.get(Compound, item.compound_id)
        if ballot_id not in {b.id for b in fund_ballots(compound)}:
            raise FieldError(
                "ballot", N_("Choose a passed and published decision to use the maintenance fund.")
            )
        item.fund_ballot_id = ballot_id
    db.session.commit()


def approve_emergency(item: CostItem, actor: User, note: str) -> None:
    """The committee lets the maintenance fund pay an urgent item without a vote."""
    note = (note or "").strip()
    if not note or len(note) > 200:
        raise FieldError("note", N_("Say what the emergency is (at most 200 characters)."))
    item.emergency_by_id, item.emergency_at, item.emergency_note = actor.id, utcnow(), note
    db.session.commit()


def withdraw_emergency(item: CostItem) -> None:
    item.emergency_by_id = item.emergency_at = None
    item.emergency_note = ""
    db.session.commit()


# The documented columns (README and the import page), Chinese or English. The header row
# is required: a file is never read by position, so another spreadsheet (the roster export,
# say) is refused instead of overwriting balances with floors and areas.
FUND_COLUMNS: dict[str, tuple[str, str]] = {
    "building": ("楼栋", "building"),
    "unit": ("单元", "unit"),
    "room": ("房号", "room"),
    "initial": ("初始交存", "initial"),
    "balance": ("当前余额", "balance"),
}


FUND_REQUIRED = ("building", "room", "initial", "balance")  # the unit column may be left out


FUND_LABELS = {key: f"{zh} / {en}" for key, (zh, en) in FUND_COLUMNS.items()}


FUND_HEADER = [
    "楼栋 building",
    "单元 unit",
    "房号 room",
    "初始交存 initial (yuan)",
    "当前余额 balance (yuan)",
]


FUND_PREVIEW_MINUTES = 30  # a checked file waits this long for the manager's confirmation


FUND_PREVIEW_CHANGES = 200  # rows of changes listed on the preview page


def _fund_lookup() -> dict[str, str]:
    """Header texts (lower case) -> field: "楼栋", "building", "楼栋 building", "初始交存（元）",
    "initial (yuan)" and the like."""
    lookup = {}
    for key, (zh, en) in FUND_COLUMNS.items():
        names = {zh, en, f"{zh} {en}", f"{zh}/{en}", f"{zh} / {en}", f"{zh}({en})", f"{zh}（{en}）"}
        if key in ("initial", "balance"):
            names |= {f"{name} (yuan)" for name in names}
            names |= {f"{zh}(元)", f"{zh}（元）", f"{en}(yuan)", f"{en}_yuan"}
        lookup.update({name.lower(): key for name in names})
    lookup["余额"] = "balance"
    return lookup


FUND_LOOKUP = _fund_lookup()


@dataclass
class FundImport:
    created: int = 0
    updated: int = 0


class AlreadyImported(DomainError):
    """The previewed balances were imported already (a second tap on "import")."""

    def __init__(self):
        super().__init__(N_("These balances were already imported."))


def read_fund_file(compound: Compound, data: bytes, filename: str) -> list[tuple[int, int, int]]:
    """Read and check a maintenance-fund statement: [(dwelling id, initial fen, balance
    fen)]. The file goes through the core reader (size, decompression bombs, row limits);
    a file without the documented headers is refused naming what is missing and what was
    found (FieldError on "file"); bad rows are all listed (FileRejected), nothing read."""
    try:
        table = read_records(
            data, filename, FUND_LOOKUP, required=FUND_REQUIRED, labels=FUND_LABELS
        )
    except SpreadsheetError as exc:
        raise FieldError("file", exc.message, **exc.params) from exc
    if not table.records:
        raise FieldError("file", N_("The file has a header row but no homes under it."))
    homes = {
        (b, u, r): d_id
        for d_id, b, u, r in db.session.execute(
            sa.select(Dwelling.id, Building.name, Unit.name, Dwelling.room)
            .join(Unit, Unit.id == Dwelling.unit_id)
            .join(Building)
            .where(Dwelling.compound_id == compound.id)
        )
    }
    problems: list[Problem] = []
    parsed: dict[int, tuple[int, int]] = {}
    for record in table.records:
        building, unit, room = (record.get("building"), record.get("unit"), record.get("room"))
        home = homes.get(
            (roster_rules.normalize_building(building), roster_rules.normalize_unit(unit), room)
        )
        if home is None:
            problems.append(
                Problem(
                    N_("There is no home %(home)s in this compound."),
                    {"home": "-".join(p for p in (building, unit, room) if p)[:40]},
                    record.row,
                    "room",
                )
            )
            continue
        amounts = []
        for column in ("initial", "balance"):
            text = record.get(column)
            try:
                amounts.append(parse_yuan(text, max_fen=MAX_PAYMENT_FEN))
            except MoneyError:
                problems.append(
                    Problem(
                        N_("“%(text)s” is not an amount in yuan."),
                        {"text": text[:20]},
                        record.row,
                        column,
                    )
                )
        if len(amounts) == 2:
            if home in parsed:
                problems.append(
                    Problem(N_("This home appears twice in the file."), {}, record.row, "room")
                )
            parsed[home] = (amounts[0], amounts[1])
    if problems:
        raise FileRejected(problems)
    return [(home, initial, balance) for home, (initial, balance) in parsed.items()]


def import_fund_balances(
    compound: Compound, data: bytes, filename: str, *, actor: User | None
) -> FundImport:
    """Per-home maintenance-fund deposits and balances from the fund's statement, at once
    (the command line; the staff page previews first). All rows or none; logged."""
    rows = read_fund_file(compound, data, filename)
    summary = _apply_fund_rows(compound, rows, actor)
    db.session.add(
        AccessLog(
            user_id=actor.id if actor else None,
            compound_id=compound.id,
            action="fund_import",
            target=f"{len(rows)} homes",
        )
    )
    db.session.commit()
    return summary


def preview_fund_import(
    compound: Compound, data: bytes, filename: str, *, actor: User, now: datetime | None = None
) -> str:
    """Check a fund file and keep what it says, unapplied, until the manager confirms.
    Returns the preview's token (random; the confirmation names it)."""
    rows = read_fund_file(compound, data, filename)
    now = now or utcnow()
    db.session.execute(sa.delete(FundImportPreview).where(FundImportPreview.expires_at < now))
    token = secrets.token_urlsafe(24)
    db.session.add(
        FundImportPreview(
            token=token,
            compound_id=compound.id,
            actor_id=actor.id,
            filename=filename[:200],
            rows=json.dumps(rows, separators=(",", ":")),
            created_at=now,
            expires_at=now + timedelta(minutes=FUND_PREVIEW_MINUTES),
        )
    )
    db.session.commit()
    return token


@dataclass
class FundChange:
    address: str
    initial_before: int | None  # None: the home has no account yet
    initial_after: int
    balance_before: int | None
    balance_after: int


@dataclass
class FundPreview:
    token: str
    filename: str
    expires_at: datetime
    homes: int  # homes in the file
    created: int  # accounts that will be opened
    updated: int  # accounts whose deposit or balance changes
    unchanged: int
    initial_before_fen: int  # the compound's totals, before and after
    initial_after_fen: int
    balance_before_fen: int
    balance_after_fen: int
    changes: list[FundChange]  # the first FUND_PREVIEW_CHANGES rows that change

    @property
    def changed(self) -> int:
        return self.created + self.updated


def _preview_row(compound: Compound, token: str, actor: User) -> FundImportPreview:
    """The manager's own preview for this compound; anyone else's, or a forged token, 404."""
    if not token or len(token) > 64:
        raise NotFound()
    row = db.session.scalar(
        sa.select(FundImportPreview).where(
            FundImportPreview.token == token,
            FundImportPreview.compound_id == compound.id,
            FundImportPreview.actor_id == actor.id,
        )
    )
    if row is None:
        raise NotFound()
    return row


def fund_preview(
    compound: Compound, token: str, actor: User, now: datetime | None = None
) -> FundPreview:
    """What confirming the preview would change, against the balances as they are now."""
    row = _preview_row(compound, token, actor)
    if row.imported_at is not None:
        raise AlreadyImported()
    if row.expires_at <= (now or utcnow()):
        raise DomainError(N_("This preview has expired. Choose the file again."))
    rows = [tuple(r) for r in json.loads(row.rows)]
    accounts = {
        d: (i, b)
        for d, i, b in db.session.execute(
            sa.select(
                FundAccount.dwelling_id, FundAccount.initial_fen, FundAccount.balance_fen
            ).where(FundAccount.compound_id == compound.id)
        )
    }
    address = _addresses(compound)
    preview = FundPreview(
        token,
        row.filename,
        row.expires_at,
        len(rows),
        0,
        0,
        0,
        sum(i for i, _ in accounts.values()),
        0,
        sum(b for _, b in accounts.values()),
        0,
        [],
    )
    initial_after, balance_after = preview.initial_before_fen, preview.balance_before_fen
    for dwelling_id, initial, balance in rows:
        before = accounts.get(dwelling_id)
        if before == (initial, balance):
            preview.unchanged += 1
            continue
        if before is None:
            preview.created += 1
        else:
            preview.updated += 1
            initial_after -= before[0]
            balance_after -= before[1]
        initial_after += initial
        balance_after += balance
        if len(preview.changes) < FUND_PREVIEW_CHANGES:
            preview.changes.append(
                FundChange(
                    address.get(dwelling_id, ""),
                    before[0] if before else None,
                    initial,
                    before[1] if before else None,
                    balance,
                )
            )
    preview.initial_after_fen, preview.balance_after_fen = initial_after, balance_after
    preview.changes.sort(key=lambda c: roster_rules.natural_key(c.address))
    return preview


def confirm_fund_import(
    compound: Compound, token: str, actor: User, now: datetime | None = None
) -> FundImport:
    """Import a previewed file, once: the preview is marked imported by a conditional
    UPDATE in the same transaction, so a double tap or two workers at once import it
    one time and the other gets AlreadyImported."""
    row = _preview_row(compound, token, actor)
    now = now or utcnow()
    claimed = db.session.execute(
        sa.update(FundImportPreview)
        .where(
            FundImportPreview.id == row.id,
            FundImportPreview.imported_at.is_(None),
            FundImportPreview.expires_at > now,
        )
        .values(imported_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        db.session.refresh(row)
        if row.imported_at is not None:
            raise AlreadyImported()
        raise DomainError(N_("This preview has expired. Choose the file again."))
    homes = set(
        db.session.scalars(sa.select(Dwelling.id).where(Dwelling.compound_id == compound.id))
    )
    rows = [tuple(r) for r in json.loads(row.rows) if r[0] in homes]
    summary = _apply_fund_rows(compound, rows, actor)
    db.session.add(
        AccessLog(
            user_id=actor.id,
            compound_id=compound.id,
            action="fund_import",
            target=f"{len(rows)} homes · {row.filename}"[:120],
        )
    )
    db.session.commit()
    return summary


def _apply_fund_rows(
    compound: Compound, rows: list[tuple[int, int, int]], actor: User | None
) -> FundImport:
    """Write the deposits and balances (in the caller's transaction) with a movement for
    every change."""
    _lock_homes(compound.id)  # no fund payment is confirmed while balances are replaced
    existing = {
        a.dwelling_id: a
        for a in db.session.scalars(
            sa.select(FundAccount)
            .where(FundAccount.compound_id == compound.id)
            .execution_options(populate_existing=True)
        )
    }
    summary = FundImport()
    now = utcnow()
    for dwelling_id, initial, balance in rows:
        account = existing.get(dwelling_id)
        if account is None:
            account = FundAccount(
                compound_id=compound.id, dwelling_id=dwelling_id, initial_fen=initial, balance_fen=0
            )
            db.session.add(account)
            summary.created += 1
        else:
            summary.updated += 1
        change = balance - account.balance_fen
        account.initial_fen, account.balance_fen, account.updated_at = initial, balance, now
        if change or account.id is None:
            db.session.add(
                FundMovement(
                    dwelling_id=dwelling_id,
                    kind="import",
                    amount_fen=change,
                    balance_fen=balance,
                    actor_id=actor.id if actor else None,
                )
            )
    return summary


def _addresses(compound: Compound) -> dict[int, str]:
    """Each home's address as building-unit-room (building-room without units)."""
    return {
        d: f"{b}-{u}-{r}" if u else f"{b}-{r}"
        for d, b, u, r in db.session.execute(
            sa.select(Dwelling.id, Building.name, Unit.name, Dwelling.room)
            .join(Unit, Unit.id == Dwelling.unit_id)
            .join(Building)
            .where(Dwelling.compound_id == compound.id)
        )
    }


@dataclass
class FundSummary:
    accounts: int
    initial_fen: int
    balance_fen: int
    low: int


def fund_summary(compound: Compound) -> FundSummary:
    accounts = list(
        db.session.execute(
            sa.select(FundAccount.initial_fen, FundAccount.balance_fen).where(
                FundAccount.compound_id == compound.id
            )
        )
    )
    return FundSummary(
        len(accounts),
        sum(a[0] for a in accounts),
        sum(a[1] for a in accounts),
        sum(rules.fund_is_low(a[1], a[0]) for a in accounts),
    )
