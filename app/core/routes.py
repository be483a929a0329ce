"""Preference toggles and plumbing pages."""

from urllib.parse import urlsplit

from flask import (
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user

from app.core import bp, events
from app.core.i18n import ELDER_COOKIE, LANG_COOKIE
from app.extensions import db

YEAR = 60 * 60 * 24 * 365


def safe_next(default: str = "/") -> str:
    """Return the ?next= target if it stays on this site, else the default."""
    target = request.args.get("next") or request.form.get("next") or ""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return default
    return target


@bp.get("/lang/<code>")
def set_language(code: str):
    """Switch the language and remember it (cookie, and the account when signed in)."""
    response = make_response(redirect(safe_next(url_for("core.index"))))
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANG_COOKIE,
            code,
            max_age=YEAR,
            samesite="Lax",
            httponly=True,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
        if current_user.is_authenticated:
            events.locale_chosen.send(current_user._get_current_object(), code=code)
    return response


@bp.get("/elder")
def toggle_elder():
    """Turn elder mode (larger text, stronger contrast) on or off."""
    response = make_response(redirect(safe_next(url_for("core.index"))))
    on = request.cookies.get(ELDER_COOKIE) != "1"
    response.set_cookie(
        ELDER_COOKIE,
        "1" if on else "0",
        max_age=YEAR,
        samesite="Lax",
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


@bp.get("/")
def index():
    """Send signed-in people home; others see the welcome page."""
    if current_user.is_authenticated:
        return redirect(url_for("portal.home"))
    return render_template("core/index.html")


@bp.get("/favicon.ico")
def favicon():
    return send_from_directory(current_app.static_folder, "img/favicon.ico", max_age=YEAR)


@bp.get("/healthz")
def healthz():
    """Liveness and database check for the load balancer (JSON, never the HTML 500 page)."""
    try:
        db.session.execute(db.text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any database failure means "not ready"
        db.session.rollback()
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}
