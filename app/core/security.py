"""Security headers and error pages."""

from flask import (
    Request,
    abort,
    current_app,
    g,
    has_request_context,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter
from werkzeug.utils import cached_property

from app.core.errors import NotFound
from app.core.text import clean_text

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class BoundedIntConverter(IntegerConverter):
    """Ids in URLs fit the database's integer: a forged huge id is a 404, not an overflow."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _cleaned(values):
    """A copy of a MultiDict with every value passed through the shared input filter."""
    return type(values)((key, clean_text(value)) for key, value in values.items(multi=True))


class CleanRequest(Request):
    """Form fields and query values arrive cleaned of control and direction characters.

    NUL is the exception: no person types it, so a request carrying one is refused (400)
    by init_app's check before it is cleaned away.
    """

    def _load_form_data(self) -> None:
        loaded = "form" in self.__dict__
        super()._load_form_data()
        if not loaded:
            self.__dict__["raw_form_has_nul"] = any(
                "\x00" in v for v in self.__dict__["form"].values()
            )
            self.__dict__["form"] = _cleaned(self.__dict__["form"])
            for upload in self.__dict__["files"].values():
                if upload.filename:
                    upload.filename = clean_text(upload.filename).replace("\n", " ")

    @cached_property
    def args(self):
        raw = super().args
        self.__dict__["raw_args_has_nul"] = any("\x00" in v for v in raw.values())
        return _cleaned(raw)


def init_app(app) -> None:
    app.request_class = CleanRequest

    @app.before_request
    def refuse_nul_bytes():
        """NUL cannot be stored in PostgreSQL text; no person types it. Refuse it early."""
        if not isinstance(request._get_current_object(), CleanRequest):
            return
        request.args, request.form  # noqa: B018 - parse both, noting NULs
        if request.__dict__.get("raw_args_has_nul") or request.__dict__.get("raw_form_has_nul"):
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
        if "Cache-Control" not in response.headers and _is_personal():
            # Never kept by a shared proxy, nor shown again from a shared phone's history.
            response.headers["Cache-Control"] = "private, no-store"
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
        import secrets

        ref = secrets.token_hex(4)
        app.logger.exception("Unhandled error %s on %s", ref, request.path)
        return render_template("errors/500.html", error_ref=ref), 500


# Pages under these paths show someone's own data (or take it), signed in or not.
PERSONAL_PATHS = (
    "/staff/",
    "/programme",
    "/api/",
    "/home",
    "/dwellings/",
    "/dues",
    "/ballots",
    "/receipts",
    "/canteen",
    "/classroom",
    "/household",
    "/repairs",
    "/activate",
    "/a/",
    "/login",
    "/logout",
)
PUBLIC_ENDPOINTS = {"static", "core.favicon"}


def _is_personal() -> bool:
    """Whether this response may carry personal data: any page for a signed-in person,
    and every page under PERSONAL_PATHS; static files never."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return False
    if request.path.startswith(PERSONAL_PATHS):
        return True
    user = g.get("_login_user")  # loaded by this request already; never a query here
    return bool(getattr(user, "is_authenticated", False)) or "_user_id" in session


def form_id(text: str | None) -> int | None:
    """A plain positive id from a form value, or None ("²" and "１" are not ids)."""
    text = (text or "").strip()
    if text.isascii() and text.isdecimal() and 0 < int(text) < 2**31:
        return int(text)
    return None


def public_url(endpoint: str, **values) -> str:
    """An absolute link for QR codes, letters, posters and stickers.

    PUBLIC_BASE_URL when set (production refuses to start without it), never the Host
    header a request names; in development the address the page was opened at, or the
    development server outside a request.
    """
    base = current_app.config.get("PUBLIC_BASE_URL") or (
        request.url_root if has_request_context() else "http://127.0.0.1:5000"
    )
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context():
            path = url_for(endpoint, **values)
    return base.rstrip("/") + path
