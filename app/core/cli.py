"""Command-line plumbing every feature's group shares: text typed on the command line goes
through the same input filter as text sent from a form, and refusals read the same."""

import click
from flask.cli import AppGroup

from app.core.errors import DomainError
from app.core.text import clean_text


def _clean(value):
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, tuple):
        return tuple(_clean(v) for v in value)
    return value


class CleanCommand(click.Command):
    """A command whose text options and arguments lose control and direction characters
    before the command runs (as the web request class does for forms)."""

    def invoke(self, ctx):
        ctx.params = {name: _clean(value) for name, value in ctx.params.items()}
        return super().invoke(ctx)


class Group(AppGroup):
    """A feature's `flask` command group (with the app context, and clean input)."""

    command_class = CleanCommand


def fail(exc: DomainError):
    """Stop the command with a refusal's message (in English, the msgid filled in)."""
    raise click.ClickException(exc.message % exc.params if exc.params else exc.message)


# A record's id as typed on the command line: a positive number that fits the id columns
# (a 20-digit number is refused with a message, never a database overflow).
RecordId = click.IntRange(1, 2**31 - 1)


class LocalDateTime(click.ParamType):
    """A date and time in Asia/Shanghai ("2026-12-05 09:00" or "2026-12-05"), between the
    years 2000 and 2100."""

    name = "YYYY-MM-DD[ HH:MM]"

    def convert(self, value, param, ctx):
        from app.core.timeutil import parse_local

        try:
            moment = parse_local(value)
        except (ValueError, OverflowError):
            self.fail(f"{value!r} is not a date/time like 2026-12-05 09:00", param, ctx)
        if not 2000 <= moment.year <= 2100:
            self.fail(f"{value!r} is not between the years 2000 and 2100", param, ctx)
        return moment
