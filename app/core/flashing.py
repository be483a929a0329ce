"""Show domain errors and form errors to the person, in their language."""

from flask import flash
from flask_babel import gettext as _

from app.core.errors import DomainError


def flash_error(exc: DomainError) -> None:
    """A rule said no: show its message (a msgid) translated."""
    flash(_(exc.message, **exc.params), "error")


def flash_form_errors(form) -> None:
    """Show a form's validation errors (for forms posted from pages that redirect)."""
    for errors in form.errors.values():
        flash(" ".join(str(e) for e in errors), "error")
