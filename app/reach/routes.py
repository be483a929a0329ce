"""The inbox, SMS choices, the gateway's callback, and the committee's reminders."""

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BuildError

from app.core.errors import DomainError
from app.core.flashing import flash_error
from app.core.i18n import fmt_full_datetime
from app.core.privacy import mask_phone, normalize_mobile
from app.core.timeutil import utcnow
from app.decisions import queries as ballots
from app.extensions import csrf, limiter
from app.reach import bp, inbox, reminders, sms
from app.reach.forms import ReadAllForm, RemindForm, SmsChoicesForm
from app.reach.texts import PURPOSES


@bp.get("/inbox")
@login_required
def inbox_page():
    """The person's messages, newest first, with links to what they are about."""
    page = request.args.get("page", 1, type=int) or 1
    entries, more = inbox.page_of(current_user, min(max(page, 1), 10_000))
    return render_template(
        "reach/inbox.html", entries=entries, page=page, more=more, form=ReadAllForm()
    )


@bp.get("/inbox/<int:message_id>")
@login_required
def open_message(message_id: int):
    """Mark the message read and go to what it is about."""
    entry = inbox.open_message(current_user, message_id)
    if entry.endpoint:
        try:
            return redirect(url_for(entry.endpoint, **entry.url_args))
        except BuildError:  # a page that no longer exists: stay in the inbox
            pass
    return redirect(url_for("reach.inbox_page"))


@bp.post("/inbox/read")
@login_required
def read_all():
    """Mark every message read."""
    if ReadAllForm().validate_on_submit():
        inbox.mark_all_read(current_user)
        flash(_("All messages are marked as read."), "success")
    return redirect(url_for("reach.inbox_page"))


@bp.route("/me/messages", methods=["GET", "POST"])
@login_required
def sms_choices():
    """Which SMS the person agrees to receive, purpose by purpose (withdraw any time)."""
    form = SmsChoicesForm()
    if form.validate_on_submit():
        wanted = {p for p in PURPOSES if form[f"sms_{p}"].data}
        sms.set_choices(current_user, wanted)
        flash(_("Your choices are saved."), "success")
        return redirect(url_for("reach.sms_choices"))
    if request.method == "GET":
        chosen = sms.choices(current_user)
        for purpose in PURPOSES:
            form[f"sms_{purpose}"].data = purpose in chosen
    return render_template(
        "reach/sms_choices.html", form=form, phone=mask_phone(current_user.phone)
    )


@bp.post("/sms/callback")
@csrf.exempt
@limiter.limit("600 per minute")
def sms_callback():
    """The gateway's delivery reports and replies (回复TD): JSON, with the shared token."""
    if not sms.token_ok(request.headers.get("X-Callback-Token")):
        abort(404)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return jsonify(ok=False, error="expected a JSON object"), 400
    if data.get("type") == "report":
        known = sms.record_report(
            str(data.get("out_id") or "")[:120],
            str(data.get("status") or "").upper() == "DELIVERED",
            str(data.get("error") or ""),
        )
        return jsonify(ok=known), (200 if known else 404)
    if data.get("type") == "reply":
        phone = normalize_mobile(str(data.get("phone") or ""))
        text = str(data.get("text") or "").strip().upper()
        if phone and text in ("TD", "T", "STOP", "退订"):
            return jsonify(ok=True, stopped=sms.stop_all(phone))
        return jsonify(ok=True, stopped=0)
    return jsonify(ok=False, error="unknown type"), 400


# --- the committee's reminders ------------------------------------------------------------


def _reminder_page(ballot, form, status=200):
    rows, now = reminders.history(ballot)
    reach = reminders.reach_of(ballot)
    return render_template(
        "reach/reminders.html",
        ballot=ballot,
        rows=rows,
        turnout=now,
        reach=reach,
        unreachable_homes=len({(n.voter_key, n.person_id) for n in reach.unreachable}),
        sent_today=reminders.sent_today(ballot),
        form=form,
    ), status


@bp.get("/staff/ballots/<int:ballot_id>/reminders")
@login_required
def ballot_reminders(ballot_id: int):
    """Turnout before and after each reminder; what a reminder now would reach."""
    ballot = ballots.get_ballot_for_staff(ballot_id, current_user)
    return _reminder_page(ballot, RemindForm())


@bp.post("/staff/ballots/<int:ballot_id>/reminders")
@login_required
def send_reminder(ballot_id: int):
    """Remind the owners who have not voted (once a day per ballot)."""
    ballot = ballots.get_ballot_for_staff(ballot_id, current_user)
    form = RemindForm()
    if not form.validate_on_submit():
        return _reminder_page(ballot, form, 400)
    try:
        reminder = reminders.send(ballot, actor=current_user)
    except DomainError as exc:
        flash_error(exc)
        return redirect(url_for("reach.ballot_reminders", ballot_id=ballot.id))
    flash(
        _(
            "Reminder sent: %(inbox)s in the portal, %(sms)s by SMS. "
            "%(doors)s homes to visit are on the door-knocking sheet.",
            inbox=reminder.in_app,
            sms=reminder.by_sms,
            doors=reminder.unreachable,
        ),
        "success",
    )
    return redirect(url_for("reach.ballot_reminders", ballot_id=ballot.id))


@bp.get("/staff/ballots/<int:ballot_id>/doors")
@login_required
def door_sheet(ballot_id: int):
    """The door-knocking sheet: owners not voted whom no SMS reaches, in door order."""
    ballot = ballots.get_ballot_for_staff(ballot_id, current_user)
    reach = reminders.reach_of(ballot)
    return render_template(
        "reach/doors.html",
        ballot=ballot,
        people=reach.unreachable,
        mask_phone=mask_phone,
        now_text=fmt_full_datetime(utcnow()),
    )
