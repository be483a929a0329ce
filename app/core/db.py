"""Column helpers shared by every feature's models."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from app.core.timeutil import as_utc, utcnow
from app.extensions import db


def enum_column(enum_cls: type[enum.Enum], length: int = 32) -> sa.Enum:
    """Store an enum by its value as a short string (portable across SQLite/PostgreSQL)."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        create_constraint=False,
    )


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always returned timezone-aware."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else as_utc(value)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_write_ahead_log(dbapi_connection, _record) -> None:
    """SQLite keeps a write-ahead log: readers never wait for a writer, and a commit is
    one append instead of a rewritten journal (workers write concurrently). Commits stay
    synchronous (FULL): an acknowledged vote survives a power cut."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def created_at_column():
    """A created_at column defaulting to now (UTC)."""
    return sa.orm.mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def lock_rows(column, *criteria) -> None:
    """Lock the rows matching criteria for the rest of the transaction by rewriting one
    column with itself (PostgreSQL: row locks; SQLite: the write lock), so a read that
    follows sees the latest committed data and concurrent writers take turns.

    Pass a non-key column (e.g. Dwelling.updated_at): inserts that only reference the
    rows by foreign key are then not blocked."""
    db.session.execute(
        sa.update(column.class_)
        .where(*criteria)
        .values({column: column})
        .execution_options(synchronize_session=False)
    )


def insert_new(table: sa.Table, rows: list[dict], *, unique: list[str]) -> None:
    """Insert the rows whose `unique` columns are not taken yet, in one statement, through
    the connection (no ORM objects: five thousand messages are one round trip). A row
    already there is left as it is: announcing an event twice writes it once."""
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    connection.execute(insert(table).on_conflict_do_nothing(index_elements=unique), rows)
