"""Sign-in, sign-out, QR activation and household letters."""

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts import bp, services
from app.accounts.forms import ActivateForm, ConfirmForm, LettersForm, LoginForm
from app.accounts.models import Role
from app.community import services as community
from app.core.errors import DomainError
from app.core.permissions import compound_staff_required
from app.core.qr import qr_svg
from app.core.routes import safe_next
from app.extensions import limiter

LETTER_ROLES = (Role.COMMITTEE, Role.STREET_ADMIN)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _phone_key() -> str:
    return "phone:" + (request.form.get("phone") or "").strip()[-11:]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_phone_key)
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
            login_user(user, remember=True)
            return redirect(safe_next(url_for("community.home")))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
def logout():
    """Sign out (POST with a CSRF token, so a link elsewhere cannot sign you out)."""
    if ConfirmForm().validate_on_submit():
        logout_user()
        flash(_("You have signed out."), "info")
    return redirect(url_for("accounts.login"))


def _render_letters(issued, compound):
    base = current_app.config["PUBLIC_BASE_URL"] or request.url_root.rstrip("/")
    letters = []
    for item in issued:
        link = base + url_for("accounts.activate", token=item.token)
        letters.append({"dwelling": item.dwelling, "link": link, "qr": qr_svg(link),
                        "expires_at": item.expires_at})
    response = make_response(render_template("accounts/letters.html", letters=letters,
                                              compound=compound))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/a/<token>", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def activate(token: str):
    """Open a household letter's QR code: confirm the phone on the roster, choose a password."""
    limit = current_app.config["ACTIVATION_MAX_ATTEMPTS"]
    try:
        code = services.check_code(token, max_attempts=limit)
    except services.CodeProblem as exc:
        return render_template("accounts/activate_problem.html",
                               message=_(exc.message, **exc.params)), 410
    dwelling = code.dwelling
    form = ActivateForm()
    if form.validate_on_submit():
        try:
            user = services.activate(token, form.phone.data, form.password.data,
                                     consent=form.consent.data, max_attempts=limit)
        except services.CodeProblem as exc:
            return render_template("accounts/activate_problem.html",
                                   message=_(exc.message, **exc.params)), 410
        except DomainError as exc:
            flash(_(exc.message, **exc.params), "error")
        else:
            login_user(user, remember=True)
            flash(_("Welcome! Your account is ready. Next time, sign in with your mobile "
                    "number and password."), "success")
            return redirect(url_for("community.home"))
    response = make_response(render_template(
        "accounts/activate.html", form=form, dwelling=dwelling,
        has_phone=services.dwelling_has_phone(dwelling)))
    response.headers["Referrer-Policy"] = "no-referrer"
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
            issued = services.issue_codes(dwellings, actor=current_user,
                                          days=current_app.config["ACTIVATION_CODE_DAYS"])
            return _render_letters(issued, compound)
    return render_template("accounts/letters_form.html", form=form, compound=compound)


@bp.post("/staff/dwellings/<int:dwelling_id>/letter")
@login_required
def reissue_letter(dwelling_id: int):
    """Reissue one household's letter; the old code stops working."""
    dwelling = community.get_staff_dwelling(dwelling_id, current_user, *LETTER_ROLES)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("community.staff_dwelling", dwelling_id=dwelling.id))
    issued = services.issue_codes([dwelling], actor=current_user,
                                  days=current_app.config["ACTIVATION_CODE_DAYS"])
    return _render_letters(issued, dwelling.compound)


@bp.post("/staff/dwellings/<int:dwelling_id>/revoke")
@login_required
def revoke_letter(dwelling_id: int):
    """Revoke a household's live code (e.g. a lost letter)."""
    dwelling = community.get_staff_dwelling(dwelling_id, current_user, *LETTER_ROLES)
    if ConfirmForm().validate_on_submit():
        services.revoke_codes(dwelling, actor=current_user)
        flash(_("The letter's code no longer works."), "success")
    return redirect(url_for("community.staff_dwelling", dwelling_id=dwelling.id))
