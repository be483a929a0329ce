"""Local policy in one place: each setting has a default in code, read per compound.

DESIGN: "Where a rule is local policy rather than law, it is a setting with a sensible
default, never a constant buried in code." Legal floors are enforced here too: a setting
may raise the notice period of an art. 278 ballot, never lower it below 15 days.
No Flask here; `policy_for` takes the compound id so callers need not know where
overrides come from.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

# 物业管理条例 art. 14: owners are told at least 15 days before an owners' decision.
LEGAL_NOTICE_DAYS = 15


@dataclass(frozen=True)
class Policy:
    # Owner decisions (DESIGN §3).
    notice_days: int = LEGAL_NOTICE_DAYS  # art. 278 ballots; never below LEGAL_NOTICE_DAYS
    survey_notice_days: int = 7  # renovation-willingness survey (local policy)
    voting_days: int = 7  # the shortest voting window
    publish_within_days: int = 3  # a closed result is published within this many days
    # Canteen and classroom (DESIGN §6): how far ahead meals, class sessions and weekly
    # bookings may be planned.
    sessions_ahead_days: int = 365

    def __post_init__(self):
        if self.notice_days < LEGAL_NOTICE_DAYS:
            raise ValueError("the notice period of an owners' decision is at least 15 days")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int) and value < 0:
                raise ValueError(f"{f.name} cannot be negative")


DEFAULT = Policy()


def policy_for(compound_id: int | None = None) -> Policy:
    """The policy in force for a compound: the defaults until overrides are stored."""
    return DEFAULT


def with_values(policy: Policy, **values) -> Policy:
    """A copy with some values changed, checked against the legal floors."""
    return replace(policy, **values)
