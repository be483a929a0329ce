"""A signed-in person's pages, kept for a short while in the shared store.

    @bp.get("/canteen")
    @login_required
    @pagecache.per_person
    def canteen(): ...

A page is kept per person and per sign-in (the forms on it carry that sign-in's CSRF
token), per language and display mode, per address with its query string, and for at
most PAGE_CACHE_SECONDS (60): what changes only with the clock (a ballot opening at its
time, "closes in 2 days") is at most that late. What changes with data is never late:
each kept page records the *generation* of what it was read from (each compound the
person lives or works in, the person's own account, and the whole city), and every
committed write moves the generations it concerns on, so the next request renders the
page again.

Which generations a write moves is decided here, for every feature at once, from the
rows the unit of work wrote (a row with `compound_id` moves that compound; a person's
or role's row moves that account too) and, for set-based statements and rows without a
compound, from the writer's reach: the compounds the writer lives or works in (the
scoping rules keep every write inside them). A write with no reach (a signed-out sticker
report without a compound, the command line, a worker) moves the whole city.

A page is never kept when its request wrote anything (an access-log entry, an
auto-close): such a page is not a pure read and keeps doing its work on every request.
Nor when a flashed message waits, or the response sets a cookie.

The store is Redis when PAGE_CACHE_URL names it (all workers and machines share it);
"memory://" keeps pages in this process, for the development server and the tests;
empty turns the cache off (production refuses "memory://", like the rate limits).
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import threading
import time

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy.orm import Session

# Rows that are bookkeeping of a sign-in or an audit trail: no page shows them as data.
IGNORED_TABLES = {"user_sessions", "access_logs"}
IGNORED_COLUMNS = {"users": {"last_login_at"}, "report_tokens": {"last_used_at"}}
# Rows whose change can move a person into or out of a compound: the account's pages.
ACCOUNT_ROWS = {
    "people": "user_id",
    "role_grants": "user_id",
    "users": "id",
    "inbox_messages": "user_id",  # the unread count in every page's header
}
# Who lives where (roster edits, rare): every page in the city.
CITY_ROWS = {"occupancies"}
CITY = "city"
ENTRY_PREFIX = "pc:page:"
GEN_PREFIX = "pc:gen:"
GEN_SECONDS = 2 * 24 * 3600  # longer than any page is kept
HIT_HEADER = "X-Page-Cache"


# -- stores -----------------------------------------------------------------------------


class MemoryStore:
    """This process only: for the development server (one process) and the tests."""

    def __init__(self):
        self._data: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    def get_many_values(self, keys: list[str]) -> list[bytes | None]:
        now = time.monotonic()
        with self._lock:
            found = [self._data.get(key) for key in keys]
        return [held[1] if held and held[0] > now else None for held in found]

    def set(self, key: str, value: bytes, seconds: int, *, only_new: bool = False) -> None:
        with self._lock:
            held = self._data.get(key)
            if only_new and held and held[0] > time.monotonic():
                return
            self._data[key] = (time.monotonic() + seconds, value)
            if len(self._data) > 20_000:  # a long-running development server
                now = time.monotonic()
                self._data = {k: v for k, v in self._data.items() if v[0] > now}

    def set_many(self, values: dict[str, bytes], seconds: int) -> None:
        for key, value in values.items():
            self.set(key, value, seconds)

    def get_fresh(self, key: str) -> bytes | None:
        """The kept page if every generation it was read from is still current."""
        raw = self.get_many_values([key])[0]
        if raw is None:
            return None
        gens = _unpack(raw)[0]["gens"]
        scopes = list(gens)
        now = self.get_many_values([_gen_key(scope) for scope in scopes])
        if [(v or b"").decode() for v in now] != [gens[scope] for scope in scopes]:
            return None
        return raw

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


# KEYS[1]: the page; ARGV[1]: the generations' key prefix. The page's first line is JSON
# naming the generations it was read from; any that moved on (or expired) means no page.
_FRESH_SCRIPT = """
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local cut = string.find(raw, '\\n', 1, true)
if not cut then return false end
local head = cjson.decode(string.sub(raw, 1, cut - 1))
for scope, gen in pairs(head['gens']) do
  if redis.call('GET', ARGV[1] .. scope) ~= gen then return false end
end
return raw
"""


class RedisStore:
    """Shared by every worker on every machine."""

    def __init__(self, url: str, prefix: str = ""):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix
        self._fresh = self._redis.register_script(_FRESH_SCRIPT)

    def get_fresh(self, key: str) -> bytes | None:
        """The kept page if every generation it was read from is still current: one
        round trip (the check runs in Redis)."""
        return self._fresh(keys=[self._prefix + key], args=[self._prefix + GEN_PREFIX]) or None

    def get_many_values(self, keys: list[str]) -> list[bytes | None]:
        return self._redis.mget([self._prefix + key for key in keys])

    def set(self, key: str, value: bytes, seconds: int, *, only_new: bool = False) -> None:
        self._redis.set(self._prefix + key, value, ex=seconds, nx=only_new)

    def set_many(self, values: dict[str, bytes], seconds: int) -> None:
        """One round trip for all of them."""
        pipe = self._redis.pipeline(transaction=False)
        for key, value in values.items():
            pipe.set(self._prefix + key, value, ex=seconds)
        pipe.execute()

    def clear(self) -> None:
        for key in self._redis.scan_iter(match=self._prefix + "pc:*", count=1000):
            self._redis.delete(key)


_MEMORY = MemoryStore()  # one per process: the test body's app and the client's share it


def store():
    """The configured store, or None when the cache is off."""
    app = current_app._get_current_object()
    url = (app.config.get("PAGE_CACHE_URL") or "").strip()
    if not url or not app.config.get("PAGE_CACHE_SECONDS"):
        return None
    if url.startswith("memory://"):
        return _MEMORY
    stores = app.extensions.setdefault("linli.pagecache", {})
    prefix = app.config.get("PAGE_CACHE_PREFIX", "")
    if (url, prefix) not in stores:
        stores[url, prefix] = RedisStore(url, prefix)
    return stores[url, prefix]


# -- generations ------------------------------------------------------------------------


def _gen_key(scope: str) -> str:
    return GEN_PREFIX + scope


def move_on(scopes) -> None:
    """A new generation for each scope ("city", "c:<compound id>", "u:<user id>"): pages
    read from the old one are not shown again. A store that does not answer is logged;
    pages are then at most PAGE_CACHE_SECONDS late."""
    held = store()
    if held is None or not scopes:
        return
    try:
        held.set_many(
            {_gen_key(scope): secrets.token_hex(8).encode() for scope in set(scopes)}, GEN_SECONDS
        )
    except Exception:  # noqa: BLE001 - a write already committed must not fail for this
        current_app.logger.warning("page cache: could not move on %s", sorted(scopes))


def _generations(held, scopes: list[str]) -> list[bytes | None]:
    return held.get_many_values([_gen_key(scope) for scope in scopes])


def _snapshot(held, scopes: list[str]) -> dict[str, str]:
    """The current generation of each scope; one is started where none is held yet."""
    values = _generations(held, scopes)
    if any(value is None for value in values):
        for scope, value in zip(scopes, values, strict=True):
            if value is None:
                held.set(_gen_key(scope), secrets.token_hex(8).encode(), GEN_SECONDS, only_new=True)
        values = _generations(held, scopes)
    return {s: (v or b"").decode() for s, v in zip(scopes, values, strict=True)}


# -- what a write concerns --------------------------------------------------------------


class _Writes:
    """What the current transaction wrote, as far as pages are concerned."""

    __slots__ = ("any", "scopes", "needs_reach")

    def __init__(self):
        self.any = False  # anything at all, bookkeeping included
        self.scopes: set[str] = set()
        self.needs_reach = False

    def merge(self, other: _Writes) -> None:
        self.any |= other.any
        self.scopes |= other.scopes
        self.needs_reach |= other.needs_reach


def _pending(session: Session) -> _Writes:
    return session.info.setdefault("pagecache_writes", _Writes())


def _changed_columns(obj) -> set[str]:
    state = sa.inspect(obj)
    return {attr.key for attr in state.attrs if attr.history.has_changes()}


def _note_object(writes: _Writes, obj, *, new: bool) -> None:
    table = getattr(obj, "__tablename__", "")
    writes.any = True
    if table in IGNORED_TABLES:
        return
    if not new and table in IGNORED_COLUMNS:
        changed = _changed_columns(obj)
        if changed and changed <= IGNORED_COLUMNS[table]:
            return
    if table in CITY_ROWS:
        writes.scopes.add(CITY)
    if table in ACCOUNT_ROWS:
        column = ACCOUNT_ROWS[table]
        history = sa.inspect(obj).attrs[column].history
        for user_id in (*history.sum(), getattr(obj, column, None)):
            if user_id is not None:
                writes.scopes.add(f"u:{user_id}")
    compound_id = getattr(obj, "compound_id", None)
    if compound_id is not None:
        writes.scopes.add(f"c:{compound_id}")
    elif table not in ("users",):
        writes.needs_reach = True


@sa.event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    writes = _pending(session)
    for obj in session.new:
        _note_object(writes, obj, new=True)
    for obj in (*session.dirty, *session.deleted):
        if obj in session.deleted or session.is_modified(obj, include_collections=False):
            _note_object(writes, obj, new=False)


@sa.event.listens_for(Session, "do_orm_execute")
def _set_based(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    writes = _pending(state.session)
    writes.any = True
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in IGNORED_TABLES:
        return
    writes.needs_reach = True


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    writes = session.info.pop("pagecache_writes", None)
    if writes is None or not writes.any:
        return
    if has_request_context():
        g.setdefault("pagecache_committed", _Writes()).merge(writes)  # moved on at teardown
    elif has_app_context():
        scopes = set(writes.scopes)
        if writes.needs_reach:
            scopes.add(CITY)
        move_on(scopes)


@sa.event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("pagecache_writes", None)


# How to find the compounds a person lives in (the community registers it: core imports
# no feature): for a page, through the homes the page reads anyway; after a write, cheaply.
_HOMES: dict[str, object] = {}


def ignore(*tables: str) -> None:
    """Tables no page shows as data (a feature's delivery bookkeeping): writes to them
    move no generation."""
    IGNORED_TABLES.update(tables)


def touched(session: Session, *scopes: str) -> None:
    """Name the generations a write moves when the writer knows them exactly (a message
    to each of five thousand owners, written through the connection so the statement is
    not taken for a set-based write of unknown reach)."""
    writes = _pending(session)
    writes.any = True
    writes.scopes.update(scopes)


def register_homes(*, for_page, after_write) -> None:
    """for_page(user) and after_write(user) each return the ids of the person's compounds."""
    _HOMES["page"], _HOMES["write"] = for_page, after_write


def _reach(user, *, homes: bool = True, for_page: bool = False) -> set[str]:
    """The compounds a signed-in person works in and (with homes) is on the roster of."""
    compounds = {grant.compound_id for grant in user.grants}
    if homes:
        compounds |= set(_HOMES["page" if for_page else "write"](user))
    return {f"c:{compound_id}" for compound_id in compounds}


def _move_on_after_request(_error=None) -> None:
    writes = g.pop("pagecache_committed", None)
    if writes is None:
        return
    scopes = set(writes.scopes)
    if writes.needs_reach:
        try:
            reach = _reach(current_user) if current_user.is_authenticated else set()
        except Exception:  # noqa: BLE001 - the request failed; be safe
            reach = set()
        scopes |= reach or {CITY}
    move_on(scopes)


# -- pages ------------------------------------------------------------------------------


def _entry_key(seconds: int) -> str:
    parts = [
        str(current_user.id),
        current_user.session_key or "",
        str(session.get("csrf_token", "")),
        str(get_locale()),
        request.cookies.get("elder", ""),
        request.full_path,
        str(int(time.time() // seconds)),
    ]
    return ENTRY_PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _pack(response, snapshot: dict[str, str]) -> bytes:
    head = json.dumps({"status": response.status_code, "type": response.mimetype, "gens": snapshot})
    return head.encode() + b"\n" + response.get_data()


def _unpack(raw: bytes):
    head, _, body = raw.partition(b"\n")
    return json.loads(head), body


def per_person(view, *, homes: bool = True):
    """Keep the page a signed-in person got, until a write it was read from (or the
    clock's PAGE_CACHE_SECONDS) makes it old. Put it under @login_required. The page
    depends on the compounds the person lives and works in."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        held = store()
        if held is None or request.method != "GET" or not current_user.is_authenticated:
            return view(*args, **kwargs)
        if session.get("_flashes"):
            return view(*args, **kwargs)
        seconds = int(current_app.config["PAGE_CACHE_SECONDS"])
        key = _entry_key(seconds)
        try:
            raw = held.get_fresh(key)
            if raw is not None:
                head, body = _unpack(raw)
                response = current_app.response_class(
                    body, status=head["status"], mimetype=head["type"]
                )
                response.headers[HIT_HEADER] = "hit"
                return response
            scopes = [
                CITY,
                f"u:{current_user.id}",
                *sorted(_reach(current_user, homes=homes, for_page=True)),
            ]
            snapshot = _snapshot(held, scopes)
        except Exception:  # noqa: BLE001 - no store: render the page as if there were none
            current_app.logger.warning("page cache: store unavailable", exc_info=True)
            return view(*args, **kwargs)
        response = current_app.make_response(view(*args, **kwargs))
        writes = g.get("pagecache_committed")
        pending = _pending(_db_session()).any
        if (
            response.status_code == 200
            and not response.direct_passthrough
            and not response.headers.getlist("Set-Cookie")
            and not session.get("_flashes")
            and not (writes and writes.any)
            and not pending
        ):
            try:  # the page may have begun the sign-in's CSRF token: keep it under that
                held.set(_entry_key(seconds), _pack(response, snapshot), seconds)
            except Exception:  # noqa: BLE001
                current_app.logger.warning("page cache: could not keep a page", exc_info=True)
        response.headers[HIT_HEADER] = "miss"
        return response

    return wrapper


def per_staff(view):
    """per_person for a staff page: it shows only compounds the person works in (the
    permission check under it makes sure), so it depends on those alone."""
    return per_person(view, homes=False)


def _db_session():
    from app.extensions import db

    return db.session()


def init_app(app) -> None:
    app.teardown_request(_move_on_after_request)
