"""Show domain errors and form errors to the person, in their language.

Flashed messages wait for the next page inside the signed session cookie, and browsers
drop a cookie over 4 KB (the person is then signed out and sees nothing). So whatever
any feature flashes is capped here, centrally: a long value inside a message is
shortened, a long message too, and only a few messages wait at a time. Full reports
(every bad row of an import) belong on the page, never in a flash.
"""

from __future__ import annotations

import json

from flask import flash, message_flashed, session
from flask_babel import gettext as _
from markupsafe import Markup

from app.core.errors import DomainError

MAX_PARAM = 80  # characters of one value put into a message (a file name, a header)
MAX_MESSAGE = 240  # characters of one message
MAX_MESSAGES = 5  # messages waiting for the next page
# Characters the waiting messages may take in the cookie, as stored (JSON escapes each
# Chinese character as 6): with the rest of the session the cookie stays well under 4 KB.
BUDGET = 1800
ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """text cut to at most limit characters, ending in "…" when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def _stored_size(message) -> int:
    return len(json.dumps(str(message)))


def flash_error(exc: DomainError) -> None:
    """A rule said no: show its message (a msgid) translated."""
    params = {
        key: shorten(value, MAX_PARAM) if isinstance(value, str) else value
        for key, value in exc.params.items()
    }
    flash(_(exc.message, **params), "error")


def flash_form_errors(form) -> None:
    """Show a form's validation errors (for forms posted from pages that redirect)."""
    for errors in form.errors.values():
        flash(" ".join(str(e) for e in errors), "error")


def _cap(messages: list) -> list:
    """The messages that may wait in the cookie: the first few, each shortened, within
    BUDGET (a message that does not fit is shortened further or left out)."""
    kept, used = [], 0
    for category, message in messages[:MAX_MESSAGES]:
        category = shorten(str(category), 20)
        if not isinstance(message, Markup):  # markup is the app's own, never cut mid-tag
            message = shorten(str(message), MAX_MESSAGE)
        size = _stored_size(message)
        if used + size > BUDGET and not isinstance(message, Markup):
            room = (BUDGET - used) // 6  # worst case: every character escaped
            message = shorten(message, room) if room >= 20 else None
            size = _stored_size(message) if message else 0
        if message is None or used + size > BUDGET:
            break
        kept.append((category, message))
        used += size
    return kept


def _on_flash(sender, message, category, **extra) -> None:
    flashes = session.get("_flashes", [])
    capped = _cap(flashes)
    if capped != flashes:
        session["_flashes"] = capped


def init_app(app) -> None:
    """Cap every message flashed by any feature (flask.flash sends message_flashed)."""
    message_flashed.connect(_on_flash, app)
