"""Count the SQL statements a block of code sends (for query budgets)."""

from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def counting(engine):
    """with counting(db.engine) as statements: ... -> statements is a list of SQL texts."""
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
