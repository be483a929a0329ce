"""Household letters (committee) and activation (residents): the QR on a letter links a
roster home to an account."""

import hashlib

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.permissions import Capability
from app.accounts.routes import TOKEN_KEY, begin_session, login_limit, trust_device
from app.community import bp, services
from app.community import letters as household_letters
from app.community.forms import ActivateForm, LettersForm
from app.community.permissions import compound_staff_required
from app.core.errors import DomainError
from app.core.flashing import flash_error
from app.core.forms import ConfirmForm, refused_status
from app.core.qr import qr_svg
from app.core.security import public_url
from app.extensions import limiter


def _token_key() -> str:
    token = session.get(TOKEN_KEY) or ""
    return "letter:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def _problem(exc: household_letters.CodeProblem):
    return render_template(
        "community/activate_problem.html", message=_(exc.message, **exc.params)
    ), 410


@bp.get("/a/<token>")
def open_letter(token: str):
    """The QR code's address: keep the token in the session, then show the form at /activate.

    The token leaves the address bar at once, so it is not in history, logs or links.
    """
    try:
        household_letters.check_code(
            token, max_attempts=current_app.config["ACTIVATION_MAX_ATTEMPTS"]
        )
    except household_letters.CodeProblem as exc:
        return _problem(exc)
    session[TOKEN_KEY] = token
    return redirect(url_for("community.activate"))


@bp.route("/activate", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
@limiter.limit(login_limit, methods=["POST"], key_func=_token_key)
def activate():
    """Confirm the phone on the roster and choose a password (or add this home)."""
    token = session.get(TOKEN_KEY)
    if not token:
        return render_template(
            "community/activate_problem.html",
            message=_("Open the link on your letter again (scan its QR code)."),
        ), 400
    limit = current_app.config["ACTIVATION_MAX_ATTEMPTS"]
    try:
        code = household_letters.check_code(token, max_attempts=limit)
    except household_letters.CodeProblem as exc:
        session.pop(TOKEN_KEY, None)
        return _problem(exc)
    form = ActivateForm()
    if form.validate_on_submit():
        try:
            user = household_letters.activate(
                token,
                form.phone.data,
                form.password.data,
                consent=form.consent.data,
                max_attempts=limit,
            )
        except household_letters.CodeProblem as exc:
            session.pop(TOKEN_KEY, None)
            return _problem(exc)
        except DomainError as exc:
            _show_refusal(form, exc)
        else:
            session.pop(TOKEN_KEY, None)
            begin_session(user)
            flash(
                _(
                    "Welcome! Your account is ready. Next time, sign in with your mobile "
                    "number and password."
                ),
                "success",
            )
            return trust_device(redirect(url_for("portal.home")), user.phone)
    response = make_response(
        render_template(
            "community/activate.html",
            form=form,
            dwelling=code.dwelling,
            reset=code.person_id is not None,
            has_phone=household_letters.code_has_phone(code),
        ),
        refused_status(form),
    )
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
    for item in household_letters.batch_letters(batch, secret=secret):
        link = public_url("community.open_letter", token=item.token)
        letters.append(
            {
                "dwelling": item.dwelling,
                "person": item.person,
                "link": link,
                "qr": qr_svg(link, label=_("Activation QR code")),
                "expires_at": item.expires_at,
            }
        )
    response = make_response(
        render_template("community/letters.html", letters=letters, compound=compound, batch=batch)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/staff/compounds/<int:compound_id>/letters", methods=["GET", "POST"])
@compound_staff_required(Capability.MANAGE_ROSTER)
def letters(compound):
    """Issue household letters with QR codes for a building or the whole compound."""
    form = LettersForm()
    if form.validate_on_submit():
        dwellings = services.dwellings_for_letters(
            compound,
            building=(form.building.data or "").strip(),
            only_missing=form.only_missing.data,
        )
        if not dwellings:
            form.building.errors = [
                *form.building.errors,
                _("No homes match. Check the building number."),
            ]
        else:
            try:
                batch, _issued = household_letters.issue_codes(
                    dwellings,
                    actor=current_user,
                    secret=current_app.config["SECRET_KEY"],
                    days=current_app.config["ACTIVATION_CODE_DAYS"],
                )
            except DomainError as exc:
                flash_error(exc)
            else:
                return redirect(url_for("community.letter_batch", batch_id=batch.id))
    return render_template(
        "community/letters_form.html", form=form, compound=compound
    ), refused_status(form)


@bp.get("/staff/letters/<int:batch_id>")
@login_required
def letter_batch(batch_id: int):
    """Print (or reprint) a batch of letters; codes already used or replaced are left out."""
    batch = household_letters.get_batch_for_staff(batch_id, current_user)
    return _letters_page(batch, services.get_compound_or_404(batch.compound_id))


@bp.post("/staff/dwellings/<int:dwelling_id>/letter")
@login_required
def reissue_letter(dwelling_id: int):
    """Reissue one household's letter; the old code stops working."""
    dwelling = services.get_staff_dwelling(dwelling_id, current_user, Capability.MANAGE_ROSTER)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("community.staff_dwelling", dwelling_id=dwelling.id))
    try:
        batch, _issued = household_letters.issue_codes(
            [dwelling],
            actor=current_user,
            secret=current_app.config["SECRET_KEY"],
            days=current_app.config["ACTIVATION_CODE_DAYS"],
        )
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("community.staff_dwelling", dwelling_id=dwelling.id))
    return redirect(url_for("community.letter_batch", batch_id=batch.id))


@bp.post("/staff/dwellings/<int:dwelling_id>/people/<int:person_id>/reset")
@login_required
def reset_letter(dwelling_id: int, person_id: int):
    """A password-reset letter for one resident the committee has checked in person."""
    dwelling = services.get_staff_dwelling(dwelling_id, current_user, Capability.MANAGE_ROSTER)
    person = services.member_of(dwelling, person_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("community.staff_dwelling", dwelling_id=dwelling.id))
    try:
        batch, _issued = household_letters.issue_reset(
            person,
            dwelling,
            actor=current_user,
            secret=current_app.config["SECRET_KEY"],
            days=current_app.config["ACTIVATION_CODE_DAYS"],
        )
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("community.staff_dwelling", dwelling_id=dwelling.id))
    return redirect(url_for("community.letter_batch", batch_id=batch.id))


@bp.post("/staff/dwellings/<int:dwelling_id>/revoke")
@login_required
def revoke_letter(dwelling_id: int):
    """Revoke a household's live codes (e.g. a lost letter)."""
    dwelling = services.get_staff_dwelling(dwelling_id, current_user, Capability.MANAGE_ROSTER)
    if ConfirmForm().validate_on_submit():
        household_letters.revoke_codes(dwelling, actor=current_user)
        flash(_("The letter's code no longer works."), "success")
    return redirect(url_for("community.staff_dwelling", dwelling_id=dwelling.id))
