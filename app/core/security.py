"""Security headers and error pages."""

from flask import abort, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from app.core.errors import NotFound

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class BoundedIntConverter(IntegerConverter):
    """Ids in URLs fit the database's integer: a forged huge id is a 404, not an overflow."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def init_app(app) -> None:
    @app.before_request
    def refuse_nul_bytes():
        """NUL cannot be stored in PostgreSQL text; no person types it. Refuse it early."""
        for values in (request.args, request.form):
            for value in values.values():
                if "\x00" in value:
                    abort(400)

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "geolocation=(), microphone=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    def page(status: int):
        response = render_template(f"errors/{status}.html"), status
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(NotFound)
    def domain_not_found(error):
        return page(404)

    @app.errorhandler(HTTPException)
    def http_error(error):
        status = error.code or 500
        if status in (400, 403, 404, 405, 413, 429):
            return page(status)
        return error

    @app.errorhandler(500)
    def server_error(error):
        app.logger.exception("Unhandled error on %s", request.path)
        return page(500)


def form_id(text: str | None) -> int | None:
    """A plain positive id from a form value, or None ("²" and "１" are not ids)."""
    text = (text or "").strip()
    if text.isascii() and text.isdecimal() and 0 < int(text) < 2**31:
        return int(text)
    return None
