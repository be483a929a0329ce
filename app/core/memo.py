"""Per-request memory for reads a page makes several times (the user's homes, say).

    homes = memo.remembered(("dwellings_of", user.id), lambda: load(...))

Values live on `flask.g`, so they never outlive the request and never cross workers; every
commit forgets them all, so a page that writes and then reads sees what it wrote. Outside
a request (CLI, workers, a test's own context) nothing is remembered.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context
from sqlalchemy.orm import Session

T = TypeVar("T")
_KEY = "_memo"


def remembered(key: Hashable, load: Callable[[], T]) -> T:
    if not has_request_context():
        return load()
    store = g.setdefault(_KEY, {})
    if key not in store:
        store[key] = load()
    return store[key]


def remembered_many(keys, load: Callable[[list], dict]) -> dict:
    """Values for several keys; `load` gets the keys not remembered yet (all of them
    outside a request) and returns a value for each."""
    keys = list(dict.fromkeys(keys))
    store = g.setdefault(_KEY, {}) if has_request_context() else {}
    missing = [key for key in keys if key not in store]
    if missing:
        store.update(load(missing))
    return {key: store[key] for key in keys}


def forget() -> None:
    if has_app_context():
        g.pop(_KEY, None)


@sa.event.listens_for(Session, "after_commit")
def _forget_after_commit(_session) -> None:
    forget()


@sa.event.listens_for(Session, "after_rollback")
def _forget_after_rollback(_session) -> None:
    forget()
