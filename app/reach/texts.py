"""The words of every message, by kind: what the inbox shows and what an SMS says.

A message is stored as its kind and its parameters (a ballot's title, an amount in fen,
a time in UTC), never as a sentence: it is worded when read, in the reader's language,
and an SMS is worded when sent, in the recipient's. Parameters whose name says what
they are get formatted here: `*_fen` as money, `*_at` as a Beijing date and time,
`*_on` as a date.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _

from app.core.errors import N_
from app.core.i18n import fmt_date, fmt_datetime, fmt_money

# The consents an SMS can rely on (one per purpose; withdrawable one by one).
PURPOSES = ("votes", "bills", "repairs", "bookings")
PURPOSE_LABELS = {
    "votes": N_("Votes: a vote announced, opened, closing soon, its result; reminders"),
    "bills": N_("Payments: confirmed or not accepted"),
    "repairs": N_("Repairs: accepted, scheduled, done, reopened, closed"),
    "bookings": N_(
        "Canteen and classroom: a booking cancelled, a place granted, a child collected"
    ),
}


@dataclass(frozen=True)
class Kind:
    text: str  # the msgid, with %(name)s parameters
    purpose: str | None  # the SMS consent it needs; None: inbox only (staff work)


KINDS: dict[str, Kind] = {
    "ballot_notice": Kind(
        N_("A vote has been announced: %(title)s. Voting opens %(opens_at)s."), "votes"
    ),
    "ballot_opened": Kind(N_("Voting is open: %(title)s. It closes %(closes_at)s."), "votes"),
    "ballot_closing": Kind(
        N_("Voting on %(title)s closes %(closes_at)s and your home has not voted yet."),
        "votes",
    ),
    "ballot_reminder": Kind(
        N_(
            "A reminder from the residents' committee: please vote on %(title)s before "
            "%(closes_at)s."
        ),
        "votes",
    ),
    "result_published": Kind(N_("The result of the vote on %(title)s is published."), "votes"),
    "payment_confirmed": Kind(
        N_("Your payment of %(amount_fen)s (%(item)s) is confirmed."), "bills"
    ),
    "payment_rejected": Kind(
        N_("Your payment of %(amount_fen)s (%(item)s) was not accepted: %(reason)s"), "bills"
    ),
    "repair_accepted": Kind(N_("Your repair report (%(what)s) was accepted."), "repairs"),
    "repair_scheduled": Kind(N_("Work on your repair report (%(what)s) has started."), "repairs"),
    "repair_done": Kind(
        N_("Your repair (%(what)s) is done. Please confirm it, or reopen it if it is not."),
        "repairs",
    ),
    "repair_reopened": Kind(N_("The repair report (%(what)s) was reopened."), "repairs"),
    "repair_closed": Kind(
        N_("The repair report (%(what)s) was closed: nobody confirmed it in time."), "repairs"
    ),
    "repair_rejected": Kind(
        N_("Your repair report (%(what)s) was declined: %(reason)s"), "repairs"
    ),
    "booking_cancelled": Kind(
        N_("Your booking (%(what)s, %(day_on)s) was cancelled by the operator."), "bookings"
    ),
    "waitlist_granted": Kind(
        N_("%(child)s has a place in the after-school class on %(day_on)s."), "bookings"
    ),
    "child_collected": Kind(N_("%(child)s was collected by %(adult)s at %(at_at)s."), "bookings"),
    # Staff work: the inbox only.
    "ticket_new": Kind(N_("New repair report: %(what)s."), None),
    "ticket_overdue": Kind(N_("A repair report is overdue: %(what)s."), None),
    "payment_waiting": Kind(
        N_("A payment of %(amount_fen)s for %(home)s is waiting for confirmation."), None
    ),
}

STOP = N_("Reply TD to stop these messages.")


def formatted(params: dict) -> dict:
    out = {}
    for name, value in params.items():
        if name == "item" and not value:
            out[name] = _("property fee")
        elif value is None:
            out[name] = ""
        elif name.endswith("_fen"):
            out[name] = fmt_money(int(value))
        elif name.endswith("_at"):
            out[name] = fmt_datetime(datetime.fromisoformat(value))
        elif name.endswith("_on"):
            out[name] = fmt_date(date.fromisoformat(value))
        else:
            out[name] = str(value)
    return out


def words(kind: str, params: str | dict) -> str:
    """The message in the current language (call inside force_locale for someone else)."""
    known = KINDS.get(kind)
    if known is None:
        return ""
    values = json.loads(params) if isinstance(params, str) else params
    return _(known.text, **formatted(values))


def sms_text(kind: str, params: str | dict) -> str:
    """The SMS: the message, then how to stop (回复TD退订)."""
    return f"{words(kind, params)} {_(STOP)}"


def purpose_of(kind: str) -> str | None:
    return KINDS[kind].purpose


def dumps(params: dict) -> str:
    """Parameters as stored: datetimes and dates as ISO text."""
    return json.dumps(
        {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in params.items()},
        ensure_ascii=False,
        sort_keys=True,
    )
