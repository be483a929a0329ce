"""Cost items and their allocation to dwellings (the first part of "what I owe")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.community import roster as roster_rules
from app.community.models import Building, Compound, Dwelling, Unit
from app.core.db import lock_rows
from app.core.errors import N_, DomainError
from app.core.money import MoneyError, ascii_number_text, parse_decimal
from app.core.timeutil import utcnow
from app.dues import rules
from app.dues.errors import FieldError
from app.dues.models import (
    Allocation,
    AllocationRule,
    Bearer,
    CostItem,
    CostItemVersion,
    CostOptIn,
    CostShare,
)
from app.extensions import db


@dataclass
class ItemSpec:
    name: str
    total_fen: int
    rule: AllocationRule = AllocationRule.AREA
    # Bearers other than residents: a fixed amount in fen, or a Fraction of the total.
    bearers: dict[Bearer, int | Fraction] = field(default_factory=dict)
    building: str = ""
    unit: str = ""
    opt_in: list[tuple[str, str, str]] = field(default_factory=list)  # (building, unit, room)
    coefficients: dict[int, str] = field(default_factory=dict)
    subsidy_fen: int = 0
    own_home: bool = False


def split_bearers(total_fen: int, bearers: dict[Bearer, int | Fraction]) -> dict[Bearer, int]:
    """Each bearer's amount to the fen; residents carry the rest. A fraction is a share of
    the whole total (government=50% is half the total even beside a fixed amount); the
    fractions are split with the same largest-remainder rule, so the amounts always sum
    to the total."""
    if Bearer.RESIDENTS in bearers:
        raise FieldError("government", N_("Residents carry what the other bearers do not."))
    fixed = {b: v for b, v in bearers.items() if isinstance(v, int)}
    shares = {b: Fraction(v) for b, v in bearers.items() if not isinstance(v, int)}
    if any(v < 0 for v in fixed.values()) or any(not 0 <= s <= 1 for s in shares.values()):
        raise FieldError("government", N_("Shares must be between 0 and the total."))
    if sum(shares.values()) > 1:
        raise FieldError("government", N_("The bearers' shares add up to more than the total."))
    weights = {b.value: s for b, s in shares.items()}
    weights["residents"] = 1 - sum(shares.values(), Fraction(0))
    split = rules.allocate(total_fen, weights) if total_fen else dict.fromkeys(weights, 0)
    amounts = {Bearer(k): v for k, v in split.items()}
    amounts[Bearer.RESIDENTS] -= sum(fixed.values())
    if amounts[Bearer.RESIDENTS] < 0:
        raise FieldError("government", N_("The bearers' shares add up to more than the total."))
    amounts.update(fixed)
    return amounts


def _scope(compound: Compound, building: str, unit: str):
    stmt = (
        sa.select(Dwelling)
        .join(Unit)
        .join(Building)
        .where(Dwelling.compound_id == compound.id)
        .options(selectinload(Dwelling.unit).selectinload(Unit.building))
    )
    building_row = unit_row = None
    if unit and not building:
        raise FieldError("building", N_("Give the building of unit %(u)s."), u=unit)
    if building:
        building_row = db.session.scalar(
            sa.select(Building).where(
                Building.compound_id == compound.id,
                Building.name == roster_rules.normalize_building(building),
            )
        )
        if building_row is None:
            raise FieldError(
                "building", N_("There is no building %(b)s in this compound."), b=building
            )
        stmt = stmt.where(Building.id == building_row.id)
        if unit:
            unit_row = db.session.scalar(
                sa.select(Unit).where(
                    Unit.building_id == building_row.id,
                    Unit.name == roster_rules.normalize_unit(unit),
                )
            )
            if unit_row is None:
                raise FieldError(
                    "unit", N_("There is no unit %(u)s in building %(b)s."), u=unit, b=building
                )
            stmt = stmt.where(Unit.id == unit_row.id)
    return building_row, unit_row, list(db.session.scalars(stmt))


def add_item(compound: Compound, spec: ItemSpec, *, actor: User | None = None) -> CostItem:
    """Add a renovation cost item and allocate its residents' part to the dwellings.
    All or nothing: a refused item leaves nothing behind in the session."""
    try:
        return _add_item(compound, spec, actor)
    except DomainError:
        db.session.rollback()
        raise


def _add_item(compound: Compound, spec: ItemSpec, actor: User | None) -> CostItem:
    name = (spec.name or "").strip()
    if not name or len(name) > 100:
        raise FieldError("name", N_("Give the item a name (at most 100 characters)."))
    if not 0 < spec.total_fen <= 10**12:
        raise FieldError("total", N_("Enter amounts in yuan above zero."))
    if not 0 <= spec.subsidy_fen <= 10**12:
        raise FieldError("subsidy", N_("Enter amounts in yuan above zero."))
    if spec.rule is AllocationRule.ELEVATOR and not spec.unit:
        raise FieldError(
            "unit", N_("An elevator is shared within one stairwell: give a building and a unit.")
        )
    building, unit, dwellings = _scope(compound, spec.building, spec.unit)
    if not dwellings:
        raise FieldError("building", N_("There are no homes in this item's scope."))
    amounts = split_bearers(spec.total_fen, spec.bearers)
    item = CostItem(
        compound_id=compound.id,
        name=name,
        total_fen=spec.total_fen,
        subsidy_fen=spec.subsidy_fen,
        rule=spec.rule,
        building_id=building.id if building else None,
        unit_id=unit.id if unit else None,
        own_home=spec.own_home,
        coefficients=",".join(f"{f}:{c}" for f, c in sorted(spec.coefficients.items())),
    )
    item.shares = [
        CostShare(bearer=b, fen=v) for b, v in sorted(amounts.items(), key=lambda kv: kv[0].value)
    ]
    db.session.add(item)
    db.session.flush()
    if spec.rule is AllocationRule.OPT_IN:
        by_address = {(d.unit.building.name, d.unit.name, d.room): d for d in dwellings}
        chosen: set[int] = set()  # a home listed twice ordered it once
        for address in spec.opt_in:
            key = (
                roster_rules.normalize_building(address[0]),
                roster_rules.normalize_unit(address[1]),
                address[2].strip(),
            )
            if key not in by_address:
                raise FieldError(
                    "opt_in", N_("No home %(home)s in this item's scope."), home="-".join(address)
                )
            chosen.add(by_address[key].id)
        for dwelling_id in sorted(chosen):
            db.session.add(CostOptIn(item_id=item.id, dwelling_id=dwelling_id))
        db.session.flush()
    _allocate(item, dwellings, amounts[Bearer.RESIDENTS])
    _record_version(item, actor)
    db.session.commit()
    return item


def _record_version(item: CostItem, actor: User | None) -> None:
    """Keep what the item is in this version, next to its allocations."""
    allocated = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Allocation.fen), 0)).where(
            Allocation.item_id == item.id, Allocation.version == item.version
        )
    )
    db.session.add(
        CostItemVersion(
            item_id=item.id,
            version=item.version,
            total_fen=item.total_fen,
            subsidy_fen=item.subsidy_fen,
            coefficients=item.coefficients,
            bearers=",".join(
                f"{s.bearer.value}={s.fen}"
                for s in sorted(item.shares, key=lambda share: share.bearer.value)
            ),
            allocated_fen=int(allocated),
            actor_id=actor.id if actor else None,
        )
    )


def item_versions(item: CostItem) -> list[CostItemVersion]:
    """Every version of an item, newest first."""
    return list(
        db.session.scalars(
            sa.select(CostItemVersion)
            .where(CostItemVersion.item_id == item.id)
            .order_by(CostItemVersion.version.desc())
        )
    )


def change_item(
    item: CostItem,
    *,
    total_fen: int | None = None,
    subsidy_fen: int | None = None,
    bearers: dict[Bearer, int | Fraction] | None = None,
    coefficients: dict[int, str] | None = None,
    actor: User | None = None,
) -> CostItem:
    """Change an item's amounts (or an elevator's floor coefficients) and allocate again as
    a new version; earlier versions and their allocations stay as history. A refused
    change changes nothing; two changes at once are made one after the other."""
    try:
        # Lock the item first and read it afresh: the version number comes from the row.
        lock_rows(CostItem.version, CostItem.id == item.id)
        db.session.refresh(item)
        return _change_item(
            item,
            total_fen=total_fen,
            subsidy_fen=subsidy_fen,
            bearers=bearers,
            coefficients=coefficients,
            actor=actor,
        )
    except DomainError:
        db.session.rollback()
        raise


def _change_item(
    item: CostItem,
    *,
    total_fen: int | None,
    subsidy_fen: int | None,
    bearers: dict[Bearer, int | Fraction] | None,
    coefficients: dict[int, str] | None,
    actor: User | None,
) -> CostItem:
    total = item.total_fen if total_fen is None else total_fen
    subsidy = item.subsidy_fen if subsidy_fen is None else subsidy_fen
    if not 0 < total <= 10**12:
        raise FieldError("total", N_("Enter amounts in yuan above zero."))
    if not 0 <= subsidy <= 10**12:
        raise FieldError("subsidy", N_("Enter amounts in yuan above zero."))
    if bearers is None:
        bearers = {s.bearer: s.fen for s in item.shares if s.bearer is not Bearer.RESIDENTS}
        if total != item.total_fen:  # keep the same proportions for the new total
            bearers = {b: Fraction(fen, item.total_fen) for b, fen in bearers.items()}
    amounts = split_bearers(total, bearers)
    compound = db.session.get(Compound, item.compound_id)
    building = db.session.get(Building, item.building_id) if item.building_id else None
    unit = db.session.get(Unit, item.unit_id) if item.unit_id else None
    _, _, dwellings = _scope(compound, building.name if building else "", unit.name if unit else "")
    item.total_fen, item.subsidy_fen, item.version = total, subsidy, item.version + 1
    if coefficients is not None:
        if item.rule is not AllocationRule.ELEVATOR:
            raise FieldError("coefficients", N_("Only an elevator item has floor coefficients."))
        item.coefficients = ",".join(f"{f}:{c}" for f, c in sorted(coefficients.items()))
    current = {share.bearer: share for share in item.shares}
    for bearer, fen in amounts.items():
        if bearer in current:
            current[bearer].fen = fen  # updated in place: (item, bearer) is unique
        else:
            item.shares.append(CostShare(bearer=bearer, fen=fen))
    for bearer, share in current.items():
        if bearer not in amounts:
            item.shares.remove(share)
    db.session.flush()
    _allocate(item, dwellings, amounts[Bearer.RESIDENTS])
    _record_version(item, actor)
    db.session.commit()
    return item


def parse_opt_in(text: str) -> list[tuple[str, str, str]]:
    """ "1-1-601, 1-1-301" -> [("1", "1", "601"), ("1", "1", "301")], each home once."""
    homes: dict[tuple[str, str, str], tuple[str, str, str]] = {}
    for part in re.split(r"[,，、;；\s]+", text or ""):
        if not part:
            continue
        bits = [bit.strip() for bit in re.split(r"[-－—]", part)]
        if len(bits) == 2:  # a building without stairwell units
            bits.insert(1, "")
        if len(bits) != 3 or not bits[0] or not bits[2]:
            raise FieldError(
                "opt_in",
                N_(
                    "Write each home as building-unit-room, separated by "
                    "commas, e.g. 1-1-601, 1-1-301 (not “%(text)s”)."
                ),
                text=part[:20],
            )
        key = (
            roster_rules.normalize_building(bits[0]),
            roster_rules.normalize_unit(bits[1]),
            bits[2],
        )
        homes.setdefault(key, (bits[0], bits[1], bits[2]))
    if not homes:
        raise FieldError("opt_in", N_("List the homes that ordered it, e.g. 1-1-601, 1-1-301."))
    return list(homes.values())


def parse_coefficients(text: str) -> dict[int, str]:
    """ "1:0,2:0,3:0.7" -> {1: "0", 2: "0", 3: "0.7"}; a clear error otherwise."""
    table = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        try:
            floor, value = part.replace("：", ":").split(":")
            floor_text = ascii_number_text(floor)
            if not (floor_text.isascii() and floor_text.isdecimal()) or len(floor_text) > 3:
                raise ValueError(floor)
            floor_no = int(floor_text)
            coefficient = parse_decimal(value, places=4, maximum=Decimal(10))
        except (ValueError, MoneyError) as exc:
            raise FieldError(
                "coefficients", N_("Write floor coefficients as 1:0,2:0,3:0.7 …")
            ) from exc
        if floor_no < 1:
            raise FieldError("coefficients", N_("Write floor coefficients as 1:0,2:0,3:0.7 …"))
        table[floor_no] = str(coefficient)
    return table


def _allocate(item: CostItem, dwellings: list[Dwelling], residents_fen: int) -> None:
    amount = max(residents_fen - item.subsidy_fen, 0)
    ids = [d.id for d in dwellings]
    try:
        if item.rule is AllocationRule.AREA:
            shares = rules.by_area(amount, {d.id: d.area_m2 for d in dwellings})
        elif item.rule is AllocationRule.PER_DWELLING:
            shares = rules.per_dwelling(amount, ids)
        elif item.rule is AllocationRule.OPT_IN:
            ordered = list(
                db.session.scalars(
                    sa.select(CostOptIn.dwelling_id).where(CostOptIn.item_id == item.id)
                )
            )
            shares = rules.opt_in(amount, ordered, ids)
        else:
            table = parse_coefficients(item.coefficients)
            shares = rules.elevator(
                rules.Elevator(residents_fen, item.subsidy_fen),
                {d.id: (d.floor, d.area_m2) for d in dwellings},
                table,
            )
    except rules.AllocationError as exc:
        raise _allocation_refusal(exc, item.rule) from exc
    db.session.execute(
        sa.insert(Allocation),
        [
            {
                "item_id": item.id,
                "version": item.version,
                "dwelling_id": key,
                "fen": fen,
                "created_at": utcnow(),
            }
            for key, fen in shares.items()
        ],
    )
    item.updated_at = utcnow()


def _allocation_refusal(exc: rules.AllocationError, rule: AllocationRule) -> DomainError:
    """Say in the person's language why an item cannot be shared out, next to the field
    to change."""
    reason = str(exc)
    field = {AllocationRule.ELEVATOR: "coefficients", AllocationRule.OPT_IN: "opt_in"}.get(
        rule, "total"
    )
    if reason.startswith("no coefficient for floor "):
        return FieldError(
            "coefficients",
            N_(
                "Give a floor coefficient for floor %(floor)s: "
                "every floor of the stairwell needs one (0 for "
                "floors that do not pay)."
            ),
            floor=reason.rsplit(" ", 1)[1],
        )
    if reason == "all weights are zero":
        return FieldError(
            field,
            N_(
                "Nobody in this item's scope would pay: every home's "
                "weight is zero. Check the floor coefficients or the "
                "homes that ordered it."
            ),
        )
    if reason == "an ordering dwelling is not in scope":
        return FieldError("opt_in", N_("A home that ordered it is outside the item's scope."))
    return FieldError(field, N_("Amounts and coefficients cannot be negative."))


def allocation_report(compound: Compound) -> dict:
    """Every dwelling's share of every item (current version), in integer fen."""
    items = []
    for item in db.session.scalars(
        sa.select(CostItem).where(CostItem.compound_id == compound.id).order_by(CostItem.id)
    ):
        rows = db.session.execute(
            sa.select(Building.name, Unit.name, Dwelling.room, Allocation.fen)
            .join(Dwelling, Dwelling.id == Allocation.dwelling_id)
            .join(Unit)
            .join(Building)
            .where(Allocation.item_id == item.id, Allocation.version == item.version)
            .order_by(Building.sort_key, Unit.sort_key, Dwelling.sort_key)
        ).all()
        items.append(
            {
                "name": item.name,
                "total_fen": item.total_fen,
                "subsidy_fen": item.subsidy_fen,
                "allocated_fen": sum(r.fen for r in rows),
                "rule": item.rule.value,
                "bearers": {s.bearer.value: s.fen for s in item.shares},
                "shares": [
                    {"building": r[0], "unit": r[1], "room": r[2], "fen": r[3]} for r in rows
                ],
            }
        )
    return {"items": items}
