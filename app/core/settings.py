"""Local policy in one place: each setting has a default in code, overridable per city,
district, street office or compound, and read per compound.

DESIGN: "Where a rule is local policy rather than law, it is a setting with a sensible
default, never a constant buried in code." Legal floors are enforced here too: a setting
may raise the notice period of an art. 278 ballot, never lower it below 15 days.

    policy = policy_for(compound)          # or a compound id
    policy.elder_age                       # 60, unless a district says 65

Overrides are rows of policy_settings (scope, scope key, name, JSON value); the most
specific scope wins: compound, then street office, then district, then the whole city.
Within a request each compound's policy is read once (until the next commit).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core import memo
from app.core.db import UTCDateTime
from app.core.timeutil import utcnow
from app.extensions import db

# 物业管理条例 art. 14: owners are told at least 15 days before an owners' decision.
LEGAL_NOTICE_DAYS = 15


@dataclass(frozen=True)
class Policy:
    # Owner decisions (DESIGN §3).
    notice_days: int = LEGAL_NOTICE_DAYS  # art. 278 ballots; never below LEGAL_NOTICE_DAYS
    survey_notice_days: int = 7  # renovation-willingness survey (local policy)
    voting_days: int = 7  # the shortest voting window
    publish_within_days: int = 3  # a closed result is published within this many days
    # Canteen and classroom (DESIGN §6).
    elder_age: int = 60  # the elder price from this age on the meal date (Elderly Rights law)
    # Extra tiers: (age from, further reduction in fen), e.g. ((80, 100),) = 80+ pay ¥1 less.
    elder_tiers: tuple[tuple[int, int], ...] = ()
    sessions_ahead_days: int = 365  # how far ahead meals, sessions and bookings may be
    # Repairs (DESIGN §7): response targets in hours, and the resident's confirm window.
    urgent_respond_hours: int = 2
    urgent_resolve_hours: int = 24
    normal_respond_hours: int = 24
    normal_resolve_hours: int = 168
    confirm_window_days: int = 7  # after the repair; then it closes by itself
    # Dues (DESIGN §5): warn when a maintenance-fund balance is below this share.
    fund_low_percent: int = 30

    def __post_init__(self):
        if self.notice_days < LEGAL_NOTICE_DAYS:
            raise ValueError("the notice period of an owners' decision is at least 15 days")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and value < 0:
                raise ValueError(f"{f.name} cannot be negative")
        if not 0 < self.elder_age < 130 or not 0 <= self.fund_low_percent <= 100:
            raise ValueError("out of range")
        ages = [age for age, _fen in self.elder_tiers]
        if ages != sorted(set(ages)) or any(
            not self.elder_age < age < 130 or fen < 0 for age, fen in self.elder_tiers
        ):
            raise ValueError("elder tiers go up in age, above the elder age")


DEFAULT = Policy()
NAMES = {f.name: f for f in fields(Policy)}


class PolicyError(ValueError):
    """A setting that does not exist, or a value it cannot take."""


def parse_value(name: str, value):
    """A setting's value from JSON or text, in the type its default has."""
    if name not in NAMES:
        raise PolicyError(f"no setting named {name}")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"{name}: not a value: {value!r}") from exc
    default = getattr(DEFAULT, name)
    if isinstance(default, bool) or not isinstance(default, int | tuple):
        raise PolicyError(f"{name} cannot be stored")  # pragma: no cover - no such field yet
    if isinstance(default, int):
        if not isinstance(value, int) or isinstance(value, bool):
            raise PolicyError(f"{name} must be a whole number")
        return value
    try:
        return tuple(tuple(int(x) for x in pair) for pair in value)
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"{name} must be a list of pairs of whole numbers") from exc


# --- stored overrides -----------------------------------------------------------------------

SCOPES = ("city", "district", "street_office", "compound")  # least to most specific


class PolicySetting(db.Model):
    """One overridden setting for the city, a district, a street office or a compound."""

    __tablename__ = "policy_settings"
    __table_args__ = (sa.UniqueConstraint("scope", "scope_key", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(sa.String(20))
    scope_key: Mapped[str] = mapped_column(sa.String(100), default="")
    name: Mapped[str] = mapped_column(sa.String(40))
    value: Mapped[str] = mapped_column(sa.Text)  # JSON
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


@dataclass(frozen=True)
class Place:
    """Where a compound sits, for choosing its overrides."""

    compound_id: int | None
    district: str = ""
    street_office: str = ""

    def scopes(self) -> list[tuple[str, str]]:
        keys = [("city", "")]
        if self.district:
            keys.append(("district", self.district))
        if self.street_office:
            keys.append(("street_office", self.street_office))
        if self.compound_id is not None:
            keys.append(("compound", str(self.compound_id)))
        return keys


# Set by the community (which knows compounds): compound id -> its Place.
_place_of: Callable[[int], Place] | None = None


def register_place_lookup(lookup: Callable[[int], Place]) -> None:
    global _place_of
    _place_of = lookup


def _place(compound) -> Place:
    if compound is None:
        return Place(None)
    if isinstance(compound, Place):
        return compound
    if isinstance(compound, int):
        return memo.remembered(
            ("place", compound), lambda: _place_of(compound) if _place_of else Place(compound)
        )
    return Place(compound.id, compound.district or "", compound.street_office or "")


def resolve(place: Place, rows) -> Policy:
    """The policy for a place from override rows (scope, scope_key, name, value)."""
    rank = {key: n for n, key in enumerate(place.scopes())}
    chosen: dict[str, tuple[int, object]] = {}
    for scope, scope_key, name, value in rows:
        level = rank.get((scope, scope_key))
        if level is None or name not in NAMES:
            continue
        if name not in chosen or chosen[name][0] < level:
            chosen[name] = (level, value)
    values = {name: parse_value(name, value) for name, (_level, value) in chosen.items()}
    try:
        return replace(DEFAULT, **values)
    except ValueError:
        return DEFAULT  # stored values that break a legal floor are never applied


def policy_for(compound=None) -> Policy:
    """The policy in force for a compound (a Compound, its id, or None for the city)."""
    place = _place(compound)
    return policies_for([place])[place]


def policies_for(places) -> dict[Place, Policy]:
    """The policy of each of several places, read in one query (for a list whose rows lie
    in different compounds: build each row's Place from its compound's columns)."""
    found = memo.remembered_many([("policy", p) for p in places], _load)
    return {key[1]: policy for key, policy in found.items()}


def _load(keys) -> dict:
    places = [place for _policy, place in keys]
    wanted = {key for place in places for key in place.scopes()}
    rows = db.session.execute(
        sa.select(
            PolicySetting.scope, PolicySetting.scope_key, PolicySetting.name, PolicySetting.value
        ).where(sa.tuple_(PolicySetting.scope, PolicySetting.scope_key).in_(wanted))
    ).all()
    return {("policy", place): resolve(place, rows) if rows else DEFAULT for place in places}


def extremes(name: str) -> tuple:
    """The lowest and the highest value a setting has anywhere (the default included), for
    a query over many compounds that then checks each one's own policy."""
    values = [getattr(DEFAULT, name)]
    values += [
        parse_value(name, v)
        for v in db.session.scalars(
            sa.select(PolicySetting.value).where(PolicySetting.name == name)
        )
    ]
    return min(values), max(values)


def set_value(scope: str, scope_key: str, name: str, value, *, actor_id: int | None = None) -> None:
    """Override one setting for a scope; refused if the result would break a legal floor."""
    if scope not in SCOPES:
        raise PolicyError(f"scope must be one of {', '.join(SCOPES)}")
    parsed = parse_value(name, value)
    try:
        replace(DEFAULT, **{name: parsed})
    except ValueError as exc:
        raise PolicyError(f"{name}: {exc}") from exc
    row = db.session.scalar(
        sa.select(PolicySetting).where(
            PolicySetting.scope == scope,
            PolicySetting.scope_key == (scope_key or ""),
            PolicySetting.name == name,
        )
    )
    if row is None:
        row = PolicySetting(scope=scope, scope_key=scope_key or "", name=name)
        db.session.add(row)
    row.value = json.dumps(parsed)
    row.updated_by_id = actor_id
    db.session.commit()  # which forgets the policies read in this request


def unset_value(scope: str, scope_key: str, name: str) -> bool:
    """Remove an override; the next scope up (or the default) applies again."""
    deleted = db.session.execute(
        sa.delete(PolicySetting).where(
            PolicySetting.scope == scope,
            PolicySetting.scope_key == (scope_key or ""),
            PolicySetting.name == name,
        )
    ).rowcount
    db.session.commit()  # which forgets the policies read in this request
    return bool(deleted)


def overrides() -> list[PolicySetting]:
    return list(
        db.session.scalars(
            sa.select(PolicySetting).order_by(
                PolicySetting.scope, PolicySetting.scope_key, PolicySetting.name
            )
        )
    )


def with_values(policy: Policy, **values) -> Policy:
    """A copy with some values changed, checked against the legal floors."""
    return replace(policy, **values)
