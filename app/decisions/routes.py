"""Decision pages: residents read and vote; committee staff run, watch and publish."""

from datetime import timedelta
from fractions import Fraction

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.forms import ConfirmForm
from app.community import roster as roster_rules
from app.community.services import RosterRejected, clamp_page
from app.core.errors import N_, DomainError
from app.core.flashing import flash_error, flash_form_errors
from app.core.permissions import compound_staff_required
from app.core.timeutil import LOCAL_TZ, local_to_utc, utcnow
from app.decisions import bp, services
from app.decisions.forms import (
    CATEGORY_LABELS,
    ITEM_LABELS,
    KIND_LABELS,
    OUTCOME_LABELS,
    RULE_LABELS,
    STATUS_LABELS,
    BallotForm,
    PaperForm,
    PaperImportForm,
    VoteForm,
)
from app.decisions.models import BallotKind, BallotStatus, Category
from app.decisions.rules import Rule
from app.extensions import limiter

RUN_ROLES = services.RUN_ROLES


@bp.app_context_processor
def labels():
    return {"KIND_LABELS": KIND_LABELS, "STATUS_LABELS": STATUS_LABELS,
            "OUTCOME_LABELS": OUTCOME_LABELS, "RULE_LABELS": RULE_LABELS,
            "CATEGORY_LABELS": CATEGORY_LABELS, "ITEM_LABELS": ITEM_LABELS,
            "BallotStatus": BallotStatus}


def _to_utc(value):
    """A Beijing wall-clock time from a form as UTC; absurd years become a clear error."""
    try:
        return local_to_utc(value)
    except (OverflowError, ValueError):
        from datetime import UTC, datetime

        return datetime(1, 1, 2, tzinfo=UTC)  # refused by create_ballot's date check


# --- residents ---------------------------------------------------------------------------

@bp.get("/ballots")
@login_required
def ballots():
    """The ballots that cover my homes."""
    return render_template("decisions/list.html",
                           ballots=services.ballots_for_resident(current_user))


def _vote_form(ballot, seat=None) -> VoteForm:
    form = VoteForm(prefix=f"s{seat.voter_key}" if seat else "")
    form.choice.choices = [(o.id, _(o.label)) for o in ballot.options]
    if seat and seat.vote and request.method == "GET":
        form.choice.data = seat.vote.option_id
        form.items.data = seat.vote.items.split(",") if seat.vote.items else []
    return form


@bp.get("/ballots/<int:ballot_id>")
@login_required
def ballot(ballot_id: int):
    """Read the notice, vote or change my vote, see my receipt and the result."""
    item = services.get_ballot_for_resident(ballot_id, current_user)
    seats = services.seats_of(item, current_user)
    forms = {seat.voter_key: _vote_form(item, seat) for seat in seats}
    return render_template("decisions/ballot.html", ballot=item, seats=seats, forms=forms,
                           is_open=services.is_open(item), result=_result(item))


def _result(item):
    if item.status is BallotStatus.PUBLISHED:
        return services.tally_dict(item)
    return None


@bp.post("/ballots/<int:ballot_id>/vote/<int:voter_key>")
@login_required
def vote(ballot_id: int, voter_key: int):
    """Cast or change my vote; double taps record one vote."""
    item = services.get_ballot_for_resident(ballot_id, current_user)
    seat = next((s for s in services.seats_of(item, current_user) if s.voter_key == voter_key),
                None)
    if seat is None:
        flash(_("Only owners vote. Tenants can read the notice and the result."), "error")
        return redirect(url_for("decisions.ballot", ballot_id=item.id))
    form = _vote_form(item, seat)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("decisions.ballot", ballot_id=item.id))
    try:
        result = services.cast_vote(item, voter_key, form.choice.data, actor=current_user,
                                    items=form.items.data if item.ask_items else None)
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(_("Your vote is recorded. Receipt code: %(code)s. You can change your vote "
                "until the vote closes; the last one counts.", code=result.receipt), "success")
    return redirect(url_for("decisions.ballot", ballot_id=item.id))


@bp.get("/receipts")
@limiter.limit("30 per minute")
def receipt():
    """Check with a receipt code that a vote is in the tally.

    Anyone holding the code learns only whether it counts; the choice itself is shown
    only to a signed-in owner of that vote (a receipt must not prove a vote to others).
    """
    code = request.args.get("code", "")[:32]
    check = services.check_receipt(code) if code else None
    show_choice = bool(check and current_user.is_authenticated and any(
        seat.voter_key == check.event.voter_key
        for seat in services.seats_of(check.ballot, current_user)))
    return render_template("decisions/receipt.html", code=code, check=check,
                           show_choice=show_choice,
                           still_open=check is not None and check.ballot.status in (
                               BallotStatus.NOTICE, BallotStatus.OPEN))


# --- committee -----------------------------------------------------------------------------

@bp.get("/staff/compounds/<int:compound_id>/ballots")
@compound_staff_required(*RUN_ROLES)
def staff_ballots(compound):
    """All ballots of a compound."""
    return render_template("decisions/staff_list.html", compound=compound,
                           ballots=services.compound_ballots(compound))


@bp.route("/staff/compounds/<int:compound_id>/ballots/new", methods=["GET", "POST"])
@compound_staff_required(*RUN_ROLES)
def new_ballot(compound):
    """Create a draft ballot."""
    form = BallotForm()
    if request.method == "GET":
        form.kind.data = request.args.get("kind", BallotKind.WILLINGNESS.value)
        start = (utcnow() + timedelta(days=8)).astimezone(LOCAL_TZ)
        form.opens_at.data = start.replace(hour=9, minute=0, second=0, microsecond=0,
                                           tzinfo=None)
        form.closes_at.data = form.opens_at.data + timedelta(days=14)
    if form.validate_on_submit():
        try:
            share = (Fraction((form.share.data or "").strip()[:10])
                     if form.rule.data == "share_of_all" else None)
        except (ValueError, ZeroDivisionError):
            form.share.errors.append(_("Write the share as a fraction such as 2/3."))
        else:
            spec = services.BallotSpec(
                kind=BallotKind(form.kind.data), title=form.title.data,
                explanation=form.explanation.data,
                category=Category(form.category.data) if form.category.data else None,
                rule=Rule(form.rule.data) if form.rule.data else None, share=share,
                building=(form.building.data or "").strip(),
                unit=(form.unit.data or "").strip(),
                notice_days=form.notice_days.data,
                opens_at=_to_utc(form.opens_at.data), closes_at=_to_utc(form.closes_at.data),
                mode_start_on=form.mode_start_on.data)
            try:
                created = services.create_ballot(compound, spec, actor=current_user)
            except DomainError as exc:
                flash_error(exc)
            else:
                flash(_("Draft saved. Publish the notice when it is ready."), "success")
                return redirect(url_for("decisions.dashboard", ballot_id=created.id))
    return render_template("decisions/new.html", form=form, compound=compound)


@bp.get("/staff/ballots/<int:ballot_id>")
@login_required
def dashboard(ballot_id: int):
    """The committee's live view: turnout against the quorum line, per building, demand."""
    item = services.get_ballot_for_staff(ballot_id, current_user)
    live = item.status in (BallotStatus.OPEN, BallotStatus.CLOSED, BallotStatus.PUBLISHED)
    overdue = services.result_overdue(item)
    return render_template(
        "decisions/dashboard.html", ballot=item, confirm_form=ConfirmForm(),
        tally=services.tally_dict(item) if live else None,
        buildings=services.turnout_by_building(item) if live else [],
        demand=services.item_demand(item) if live else [],
        paper_form=_paper_form(item), import_form=PaperImportForm(),
        overdue=overdue, verification=None)


def _paper_form(item) -> PaperForm:
    form = PaperForm()
    form.choice.choices = [(o.id, f"{o.position}. {_(o.label)}") for o in item.options]
    return form


ACTIONS = {
    "notice": (services.publish_notice,
               N_("Notice published. Voting may open after the notice period.")),
    "open": (services.open_ballot, N_("Voting is open. The voter roll is frozen.")),
    "close": (services.close_ballot, N_("Voting is closed and the tally is recorded.")),
    "publish": (services.publish_result, N_("The result is published.")),
}


@bp.post("/staff/ballots/<int:ballot_id>/<any(notice, open, close, publish):action>")
@login_required
def step(ballot_id: int, action: str):
    """Move a ballot to its next stage."""
    item = services.get_ballot_for_staff(ballot_id, current_user)
    if ConfirmForm().validate_on_submit():
        run, message = ACTIONS[action]
        try:
            run(item, actor=current_user)
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_(message), "success")
    return redirect(url_for("decisions.dashboard", ballot_id=item.id))


@bp.get("/staff/ballots/<int:ballot_id>/verify")
@login_required
def verify(ballot_id: int):
    """Recompute the vote log's hash chain."""
    item = services.get_ballot_for_staff(ballot_id, current_user)
    result = services.verify_log(item)
    if result.ok:
        flash(_("The vote log is intact: %(n)s entries checked.", n=result.entries), "success")
    else:
        flash(_("The vote log is BROKEN at entry %(seq)s: %(reason)s",
                seq=result.broken_seq or "-", reason=_(result.reason)), "error")
    return redirect(url_for("decisions.dashboard", ballot_id=item.id))


@bp.get("/staff/ballots/<int:ballot_id>/missing")
@login_required
def missing(ballot_id: int):
    """Homes whose owners have not voted yet, for door-knocking."""
    item = services.get_ballot_for_staff(ballot_id, current_user)
    building = request.args.get("building", "")[:20]
    page = clamp_page(request.args.get("page", 1, type=int))
    return render_template("decisions/missing.html", ballot=item, building=building,
                           pagination=services.missing_voters(item, building=building,
                                                              page=page))


@bp.post("/staff/ballots/<int:ballot_id>/paper")
@login_required
def paper(ballot_id: int):
    """Record one paper ballot (or proxy) for a household."""
    item = services.get_ballot_for_staff(ballot_id, current_user)
    form = _paper_form(item)
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    unit = form.unit.data or ""
    voter = services.find_voter(item, form.building.data, unit, form.room.data)
    if voter is None:
        flash(_("No home %(b)s-%(u)s-%(r)s in this ballot's scope.", b=form.building.data,
                u=unit or "-", r=form.room.data), "error")
        return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    try:
        services.cast_vote(item, voter, form.choice.data, actor=current_user,
                           channel=services.Channel.PAPER, proxy_name=form.proxy_name.data)
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(_("Paper ballot recorded for %(b)s-%(u)s-%(r)s.", b=form.building.data,
                u=unit or "-", r=form.room.data), "success")
    return redirect(url_for("decisions.dashboard", ballot_id=item.id))


@bp.post("/staff/ballots/<int:ballot_id>/paper-import")
@login_required
def paper_import(ballot_id: int):
    """Import a file of paper ballots; a file with any bad row records nothing."""
    item = services.get_ballot_for_staff(ballot_id, current_user)
    form = PaperImportForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            count = services.import_paper(item, upload.read(), upload.filename or "",
                                          actor=current_user, translate=_)
        except RosterRejected as exc:
            problems = exc.problems
            flash_error(exc)
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("%(n)s paper ballots recorded.", n=count), "success")
            return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    else:
        flash_form_errors(form)
    if not problems:
        return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    return render_template("decisions/problems.html", ballot=item, problems=problems), 422


@bp.get("/staff/ballots/<int:ballot_id>/notice")
@login_required
def notice(ballot_id: int):
    """The printable A4 notice (公示) of the ballot or its result."""
    item = services.get_ballot_for_staff(ballot_id, current_user)
    tally = services.tally_dict(item) if item.result_json else None
    return render_template("decisions/notice.html", ballot=item, result=tally)


@bp.get("/staff/ballots/<int:ballot_id>/votes.<fmt>")
@login_required
def export(ballot_id: int, fmt: str):
    """Every home's vote record as CSV or XLSX."""
    item = services.get_ballot_for_staff(ballot_id, current_user)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    channels = {"online": _("online"), "paper": _("paper")}
    rows = [r[:5] + [_(r[5]) if r[5] else "", channels.get(r[6], "")] + r[7:]
            for r in services.vote_records(item, actor=current_user)]
    data = (roster_rules.write_table_csv(services.EXPORT_HEADER, rows) if fmt == "csv"
            else roster_rules.write_table_xlsx(services.EXPORT_HEADER, rows, "votes"))
    response = make_response(data)
    response.headers["Content-Type"] = (
        "text/csv; charset=utf-8" if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f"attachment; filename=ballot-{item.id}-votes.{fmt}"
    return response
