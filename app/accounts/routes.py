"""Sign-in, sign-out, QR activation, household and reset letters."""

import hashlib

from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import bp, devices, services
from app.accounts.forms import ActivateForm, ConfirmForm, LettersForm, LoginForm
from app.accounts.models import Role
from app.community import services as community
from app.core.errors import DomainError
from app.core.flashing import flash_error
from app.core.forms import refused_status
from app.core.permissions import compound_staff_required
from app.core.privacy import normalize_mobile
from app.core.qr import qr_svg
from app.core.routes import safe_next
from app.core.security import public_url
from app.extensions import limiter

LETTER_ROLES = (Role.COMMITTEE, Role.STREET_ADMIN)
TOKEN_KEY = "activation_token"


def _login_limit() -> str:
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
        g.trusted_device = devices.trusted_key(request.cookies.get(devices.COOKIE),
                                               _form_phone(), current_app.config["SECRET_KEY"])
    return g.trusted_device


def _from_trusted_device() -> bool:
    return _trusted_device() is not None


def _from_unknown_device() -> bool:
    return _trusted_device() is None


def _device_key() -> str:
    return "device:" + (_trusted_device() or "?")


def _trust_device(response, phone: str):
    """After a correct password: this device is the phone's own from now on."""
    response.set_cookie(
        devices.COOKIE, devices.issue(request.cookies.get(devices.COOKIE), phone,
                                      current_app.config["SECRET_KEY"]),
        max_age=devices.MAX_AGE, httponly=True, samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _token_key() -> str:
    token = session.get(TOKEN_KEY) or ""
    return "letter:" + hashlib.sha256(token.encode()).hexdigest()[:16]


@bp.before_app_request
def note_session_seen():
    """Keep a coarse last-seen time of the sign-in (at most one write an hour)."""
    if request.endpoint != "static" and current_user.is_authenticated:
        services.note_seen(current_user)


@bp.route("/login", methods=["GET", "POST"])
# Unknown devices: per address and per phone number, so guessing stays slow. A device
# where the number signed in before is counted on its own (device cookie), so a stranger
# who exhausts the number's limit cannot lock its owner out.
@limiter.limit(_login_limit, methods=["POST"], exempt_when=_from_trusted_device)
@limiter.limit(_login_limit, methods=["POST"], key_func=_phone_key,
               exempt_when=_from_trusted_device)
@limiter.limit(_device_limit, methods=["POST"], key_func=_device_key,
               exempt_when=_from_unknown_device)
def login():
    """Sign in with mobile number and password."""
    if current_user.is_authenticated:
        return redirect(url_for("community.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next("")
    if form.validate_on_submit():
        user = services.authenticate(form.phone.data, form.password.data)
        if user is None:
            form.password.errors.append(_("Wrong mobile number or password."))
        else:
            session.pop(TOKEN_KEY, None)
            services.start_session(user, user_agent=request.user_agent.string)
            login_user(user, remember=True)
            return _trust_device(redirect(safe_next(url_for("community.home"))), user.phone)
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


def _problem(exc: services.CodeProblem):
    return render_template("accounts/activate_problem.html",
                           message=_(exc.message, **exc.params)), 410


@bp.get("/a/<token>")
def open_letter(token: str):
    """The QR code's address: keep the token in the session, then show the form at /activate.

    The token leaves the address bar at once, so it is not in history, logs or links.
    """
    try:
        services.check_code(token, max_attempts=current_app.config["ACTIVATION_MAX_ATTEMPTS"])
    except services.CodeProblem as exc:
        return _problem(exc)
    session[TOKEN_KEY] = token
    return redirect(url_for("accounts.activate"))


@bp.route("/activate", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_token_key)
def activate():
    """Confirm the phone on the roster and choose a password (or add this home)."""
    token = session.get(TOKEN_KEY)
    if not token:
        return render_template("accounts/activate_problem.html", message=_(
            "Open the link on your letter again (scan its QR code).")), 400
    limit = current_app.config["ACTIVATION_MAX_ATTEMPTS"]
    try:
        code = services.check_code(token, max_attempts=limit)
    except services.CodeProblem as exc:
        session.pop(TOKEN_KEY, None)
        return _problem(exc)
    form = ActivateForm()
    if form.validate_on_submit():
        try:
            user = services.activate(token, form.phone.data, form.password.data,
                                     consent=form.consent.data, max_attempts=limit)
        except services.CodeProblem as exc:
            session.pop(TOKEN_KEY, None)
            return _problem(exc)
        except DomainError as exc:
            _show_refusal(form, exc)
        else:
            session.pop(TOKEN_KEY, None)
            if current_user.is_authenticated:  # whoever was signed in here is replaced
                services.end_session(current_user)
            services.start_session(user, user_agent=request.user_agent.string)
            login_user(user, remember=True)
            flash(_("Welcome! Your account is ready. Next time, sign in with your mobile "
                    "number and password."), "success")
            return _trust_device(redirect(url_for("community.home")), user.phone)
    response = make_response(render_template(
        "accounts/activate.html", form=form, dwelling=code.dwelling,
        reset=code.person_id is not None, has_phone=services.code_has_phone(code)),
        refused_status(form))
    response.headers["Cache-Control"] = "no-store"
    return response


def _show_refusal(form, exc: DomainError) -> None:
    """Put a service's refusal next to the field it is about (else above the form)."""
    message = _(exc.message, **exc.params)
    field = getattr(form, getattr(exc, "field", "") or "", None)
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


# --- letters (committee) --------------------------------------------------------------------

def _letters_page(batch, compound):
    secret = current_app.config["SECRET_KEY"]
    letters = []
    for item in services.batch_letters(batch, secret=secret):
        link = public_url("accounts.open_letter", token=item.token)
        letters.append({"dwelling": item.dwelling, "person": item.person, "link": link,
                        "qr": qr_svg(link, label=_("Activation QR code")),
                        "expires_at": item.expires_at})
    response = make_response(render_template("accounts/letters.html", letters=letters,
                                              compound=compound, batch=batch))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/staff/compounds/<int:compound_id>/letters", methods=["GET", "POST"])
@compound_staff_required(*LETTER_ROLES)
def letters(compound):
    """Issue household letters with QR codes for a building or the whole compound."""
    form = LettersForm()
    if form.validate_on_submit():
        dwellings = community.dwellings_for_letters(
            compound, building=(form.building.data or "").strip(),
            only_missing=form.only_missing.data)
        if not dwellings:
            flash(_("No homes match. Check the building number."), "error")
        else:
            try:
                batch, _issued = services.issue_codes(
                    dwellings, actor=current_user, secret=current_app.config["SECRET_KEY"],
                    days=current_app.config["ACTIVATION_CODE_DAYS"])
            except DomainError as exc:
                flash_error(exc)
            else:
                return redirect(url_for("accounts.letter_batch", batch_id=batch.id))
    return render_template("accounts/letters_form.html", form=form, compound=compound)


@bp.get("/staff/letters/<int:batch_id>")
@login_required
def letter_batch(batch_id: int):
    """Print (or reprint) a batch of letters; codes already used or replaced are left out."""
    batch = services.get_batch_for_staff(batch_id, current_user, *LETTER_ROLES)
    return _letters_page(batch, community.get_compound_or_404(batch.compound_id))


@bp.post("/staff/dwellings/<int:dwelling_id>/letter")
@login_required
def reissue_letter(dwelling_id: int):
    """Reissue one household's letter; the old code stops working."""
    dwelling = community.get_staff_dwelling(dwelling_id, current_user, *LETTER_ROLES)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("community.staff_dwelling", dwelling_id=dwelling.id))
    try:
        batch, _issued = services.issue_codes(
            [dwelling], actor=current_user, secret=current_app.config["SECRET_KEY"],
            days=current_app.config["ACTIVATION_CODE_DAYS"])
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("community.staff_dwelling", dwelling_id=dwelling.id))
    return redirect(url_for("accounts.letter_batch", batch_id=batch.id))


@bp.post("/staff/dwellings/<int:dwelling_id>/people/<int:person_id>/reset")
@login_required
def reset_letter(dwelling_id: int, person_id: int):
    """A password-reset letter for one resident the committee has checked in person."""
    dwelling = community.get_staff_dwelling(dwelling_id, current_user, *LETTER_ROLES)
    person = community.member_of(dwelling, person_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("community.staff_dwelling", dwelling_id=dwelling.id))
    try:
        batch, _issued = services.issue_reset(
            person, dwelling, actor=current_user, secret=current_app.config["SECRET_KEY"],
            days=current_app.config["ACTIVATION_CODE_DAYS"])
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("community.staff_dwelling", dwelling_id=dwelling.id))
    return redirect(url_for("accounts.letter_batch", batch_id=batch.id))


@bp.post("/staff/dwellings/<int:dwelling_id>/revoke")
@login_required
def revoke_letter(dwelling_id: int):
    """Revoke a household's live codes (e.g. a lost letter)."""
    dwelling = community.get_staff_dwelling(dwelling_id, current_user, *LETTER_ROLES)
    if ConfirmForm().validate_on_submit():
        services.revoke_codes(dwelling, actor=current_user)
        flash(_("The letter's code no longer works."), "success")
    return redirect(url_for("community.staff_dwelling", dwelling_id=dwelling.id))
