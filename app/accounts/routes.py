"""Sign-in and sign-out; the rate limits and device cookie that the letter pages share."""

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.accounts import bp, devices, services
from app.accounts.forms import LoginForm
from app.core.forms import ConfirmForm, refused_status
from app.core.privacy import normalize_mobile
from app.core.routes import safe_next
from app.extensions import limiter

TOKEN_KEY = "activation_token"


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _device_limit() -> str:
    return current_app.config["TRUSTED_DEVICE_RATE_LIMIT"]


def _form_phone() -> str | None:
    try:
        return normalize_mobile(request.form.get("phone") or "")
    except ValueError:
        return None


def _phone_key() -> str:
    """Count attempts per phone however it is typed (spaces, +86, dashes)."""
    return "phone:" + (_form_phone() or "?")


def _trusted_device() -> str | None:
    """This device's key for the phone typed, if that phone signed in here before."""
    if "trusted_device" not in g:
        g.trusted_device = devices.trusted_key(
            request.cookies.get(devices.COOKIE), _form_phone(), current_app.config["SECRET_KEY"]
        )
    return g.trusted_device


def _from_trusted_device() -> bool:
    return _trusted_device() is not None


def _from_unknown_device() -> bool:
    return _trusted_device() is None


def _device_key() -> str:
    return "device:" + (_trusted_device() or "?")


def trust_device(response, phone: str):
    """After a correct password: this device is the phone's own from now on."""
    response.set_cookie(
        devices.COOKIE,
        devices.issue(request.cookies.get(devices.COOKIE), phone, current_app.config["SECRET_KEY"]),
        max_age=devices.MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


def begin_session(user) -> None:
    """Sign this browser in as user: whoever was signed in here is signed out first."""
    if current_user.is_authenticated and current_user.id != user.id:
        services.end_session(current_user)
    services.start_session(user, user_agent=request.user_agent.string)
    login_user(user, remember=True)


@bp.before_app_request
def note_session_seen():
    """Keep a coarse last-seen time of the sign-in (at most one write an hour)."""
    if request.endpoint != "static" and current_user.is_authenticated:
        services.note_seen(current_user)


@bp.route("/login", methods=["GET", "POST"])
# Unknown devices: per address and per phone number, so guessing stays slow. A device
# where the number signed in before is counted on its own (device cookie), so a stranger
# who exhausts the number's limit cannot lock its owner out.
@limiter.limit(login_limit, methods=["POST"], exempt_when=_from_trusted_device)
@limiter.limit(login_limit, methods=["POST"], key_func=_phone_key, exempt_when=_from_trusted_device)
@limiter.limit(
    _device_limit, methods=["POST"], key_func=_device_key, exempt_when=_from_unknown_device
)
def login():
    """Sign in with mobile number and password."""
    if current_user.is_authenticated:
        return redirect(url_for("portal.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next("")
    if form.validate_on_submit():
        user = services.authenticate(form.phone.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong mobile number or password."))
        else:
            session.pop(TOKEN_KEY, None)
            begin_session(user)
            return trust_device(redirect(safe_next(url_for("portal.home"))), user.phone)
    return render_template("accounts/login.html", form=form), refused_status(form)


@bp.post("/logout")
def logout():
    """Sign out (POST with a CSRF token, so a link elsewhere cannot sign you out)."""
    if ConfirmForm().validate_on_submit():
        if current_user.is_authenticated:
            if request.form.get("everywhere"):
                services.sign_out_everywhere(current_user)
            else:
                services.end_session(current_user)  # other phones stay signed in
        session.clear()
        logout_user()  # after clear(): it leaves the note that deletes the remember cookie
        flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))
