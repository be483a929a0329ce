"""The committee's ballot pages: drafts, the notice, opening, closing, publishing, corrections (withdraw, extend), paper votes and the exports."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.permissions import Capability
from app.community import roster as roster_rules
from app.community.forms import MODE_LABELS
from app.community.permissions import compound_staff_required
from app.community.services import clamp_page
from app.core import pagecache
from app.core.errors import N_, DomainError
from app.core.forms import ConfirmForm, refused_status
from app.core.i18n import fmt_full_datetime
from app.core.settings import policy_for
from app.core.spreadsheet import FileRejected
from app.core.timeutil import LOCAL_TZ, utcnow
from app.decisions import bp, drafts, lifecycle, models, queries, tallying, voting
from app.decisions import paper as paper_entry
from app.decisions.forms import (
    BallotForm,
    ExtendForm,
    PaperForm,
    PaperImportForm,
    WithdrawForm,
)
from app.decisions.models import BallotKind, BallotStatus, Category
from app.decisions.routes import _attach, _flash_refusal, _posted, _to_utc
from app.decisions.rules import Rule

PROBLEMS_SHOWN = 500  # rows of an import report shown on the page


@bp.get("/staff/compounds/<int:compound_id>/ballots")
@compound_staff_required(Capability.RUN_VOTES)
@pagecache.per_staff
def staff_ballots(compound):
    """All ballots of a compound."""
    return render_template(
        "decisions/staff_list.html", compound=compound, ballots=queries.compound_ballots(compound)
    )


def _spec(form: BallotForm) -> drafts.BallotSpec:
    """The ballot as typed; a field that could not be read is None (it shows its error)."""

    def value(field):
        return None if field.errors else field.data

    kind = value(form.kind)
    category, rule = value(form.category), value(form.rule)
    return drafts.BallotSpec(
        kind=BallotKind(kind) if kind in {k.value for k in BallotKind} else None,
        title=form.title.data or "",
        explanation=form.explanation.data or "",
        category=Category(category) if category else None,
        rule=Rule(rule) if rule else None,
        share=(form.share.data or "") if rule == Rule.SHARE_OF_ALL.value else None,
        building=(form.building.data or "").strip(),
        unit=(form.unit.data or "").strip(),
        notice_days=value(form.notice_days),
        opens_at=_to_utc(value(form.opens_at)),
        closes_at=_to_utc(value(form.closes_at)),
        mode_start_on=value(form.mode_start_on),
    )


def _describe_limits(form: BallotForm, compound_id: int) -> None:
    """Say the least notice and window next to the fields (from the compound's policy)."""
    law = drafts.schedule_limits(compound_id, BallotKind.GENERAL)
    survey = drafts.schedule_limits(compound_id, BallotKind.WILLINGNESS)
    form.notice_days.description = _(
        "At least %(days)s days for an owners' decision (Property Management Regulations "
        "art. 14); at least %(survey)s days for a renovation-willingness survey.",
        days=law.notice_days,
        survey=survey.notice_days,
    )
    form.closes_at.description = _(
        "Voting stays open at least %(days)s days.", days=law.voting_days
    )


def _local_input(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_TZ).replace(tzinfo=None, second=0, microsecond=0)


def _save_draft(compound, form, ballot=None):
    """Check every field (form and rules together), then save; errors shown all at once."""
    spec = _spec(form)
    _attach(form, drafts.ballot_problems(compound, spec))
    if form.errors:
        return None
    try:
        if ballot is None:
            return drafts.create_ballot(compound, spec, actor=current_user)
        return drafts.update_draft(ballot, spec, actor=current_user)
    except drafts.BallotRejected as exc:
        _attach(form, exc.problems)
    except DomainError as exc:
        form.form_errors.append(_(exc.message, **exc.params))
    return None


@bp.route("/staff/compounds/<int:compound_id>/ballots/new", methods=["GET", "POST"])
@compound_staff_required(Capability.RUN_VOTES)
def new_ballot(compound):
    """Create a draft ballot."""
    form = BallotForm()
    _describe_limits(form, compound.id)
    if request.method == "GET":
        form.kind.data = request.args.get("kind", BallotKind.WILLINGNESS.value)
        law = drafts.schedule_limits(compound.id, BallotKind.GENERAL)
        form.notice_days.data = law.notice_days
        start = (utcnow() + timedelta(days=law.notice_days + 1)).astimezone(LOCAL_TZ)
        form.opens_at.data = start.replace(hour=9, minute=0, second=0, microsecond=0, tzinfo=None)
        form.closes_at.data = form.opens_at.data + timedelta(days=14)
    elif _posted(form):
        created = _save_draft(compound, form)
        if created is not None:
            flash(_("Draft saved. Publish the notice when it is ready."), "success")
            return redirect(url_for("decisions.dashboard", ballot_id=created.id))
    return render_template(
        "decisions/new.html", form=form, compound=compound, ballot=None
    ), refused_status(form)


def _staff_ballot(ballot_id: int):
    return queries.get_ballot_for_staff(ballot_id, current_user)


@bp.route("/staff/ballots/<int:ballot_id>/edit", methods=["GET", "POST"])
@login_required
def edit_ballot(ballot_id: int):
    """Correct a draft before its notice is published."""
    item = _staff_ballot(ballot_id)
    if item.status is not BallotStatus.DRAFT:
        flash(
            _(
                "Only a draft can be edited. A published notice can be withdrawn and a new "
                "ballot created."
            ),
            "error",
        )
        return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    form = BallotForm()
    _describe_limits(form, item.compound_id)
    if request.method == "GET":
        form.kind.data = item.kind.value
        form.title.data, form.explanation.data = item.title, item.explanation
        form.category.data = "" if item.kind is not BallotKind.GENERAL else item.category.value
        form.rule.data = item.rule.value if item.kind is BallotKind.WILLINGNESS else ""
        form.share.data = f"{item.share_num}/{item.share_den}" if item.share_num else "2/3"
        form.building.data = item.building.name if item.building else ""
        form.unit.data = item.unit.name if item.unit else ""
        form.notice_days.data = item.notice_days
        form.opens_at.data = _local_input(item.opens_at)
        form.closes_at.data = _local_input(item.closes_at)
        form.mode_start_on.data = item.mode_start_on
    elif _posted(form) and _save_draft(item.compound, form, item) is not None:
        flash(_("Draft saved. Publish the notice when it is ready."), "success")
        return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    return render_template(
        "decisions/new.html", form=form, compound=item.compound, ballot=item
    ), refused_status(form)


@bp.route("/staff/ballots/<int:ballot_id>/delete", methods=["GET", "POST"])
@login_required
def delete_ballot(ballot_id: int):
    """Delete a draft, after a page that says what will happen."""
    item = _staff_ballot(ballot_id)
    form = ConfirmForm()
    if item.status is not BallotStatus.DRAFT:
        flash(
            _(
                "Only a draft can be deleted. A published notice can be withdrawn before "
                "voting opens."
            ),
            "error",
        )
        return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    if form.validate_on_submit():
        compound_id = item.compound_id
        try:
            drafts.delete_draft(item, actor=current_user)
        except DomainError as exc:
            _flash_refusal(exc)
            return redirect(url_for("decisions.dashboard", ballot_id=ballot_id))
        flash(_("The draft is deleted."), "success")
        return redirect(url_for("decisions.staff_ballots", compound_id=compound_id))
    return render_template(
        "decisions/confirm.html",
        ballot=item,
        deleting=True,
        form=form,
        post_to=url_for("decisions.delete_ballot", ballot_id=item.id),
    )


@bp.get("/staff/ballots/<int:ballot_id>")
@login_required
@pagecache.per_staff
def dashboard(ballot_id: int):
    """The committee's live view: turnout against the quorum line, per building, demand."""
    return _dashboard(_staff_ballot(ballot_id))


def _dashboard(item, paper_form=None, import_form=None, status=200):
    live = item.status in (BallotStatus.OPEN, BallotStatus.CLOSED, BallotStatus.PUBLISHED)
    tally = tallying.tally_dict(item) if live else None
    return render_template(
        "decisions/dashboard.html",
        ballot=item,
        confirm_form=ConfirmForm(),
        tally=tally,
        steps=lifecycle.steps(item, quorum_met=bool(tally and tally["quorum_met"])),
        buildings=tallying.turnout_by_building(item) if live else [],
        demand=tallying.item_demand(item) if live else [],
        paper_form=paper_form or _paper_form(item),
        import_form=import_form or PaperImportForm(),
        overdue=lifecycle.result_overdue(item),
        publish_within=policy_for(item.compound_id).publish_within_days,
    ), status


def _paper_form(item) -> PaperForm:
    form = PaperForm()
    form.choice.choices = [(o.id, f"{o.position}. {_(o.label)}") for o in item.options]
    return form


ACTIONS = {
    "notice": (
        lifecycle.publish_notice,
        N_(
            "Notice published to the owners, and the residents' committee is told. "
            "Voting may open after the notice period."
        ),
    ),
    "open": (lifecycle.open_ballot, N_("Voting is open. The voter roll is frozen.")),
    "close": (lifecycle.close_ballot, N_("Voting is closed and the tally is recorded.")),
    "publish": (lifecycle.publish_result, N_("The result is published.")),
}


@bp.post("/staff/ballots/<int:ballot_id>/<any(notice, open, close, publish):action>")
@login_required
def step(ballot_id: int, action: str):
    """Move a ballot to its next stage."""
    item = _staff_ballot(ballot_id)
    if ConfirmForm().validate_on_submit():
        run, message = ACTIONS[action]
        try:
            run(item, actor=current_user)
        except DomainError as exc:
            _flash_refusal(exc)
        else:
            flash(_(message), "success")
    return redirect(url_for("decisions.dashboard", ballot_id=item.id))


@bp.get("/staff/ballots/<int:ballot_id>/<any(close, publish):action>")
@login_required
def confirm_step(ballot_id: int, action: str):
    """Say what closing voting or publishing the result will do, before it is done."""
    item = _staff_ballot(ballot_id)
    tally = (
        tallying.tally_dict(item)
        if item.status in (BallotStatus.OPEN, BallotStatus.CLOSED)
        else None
    )
    effect = lifecycle.result_effect(item)
    return render_template(
        "decisions/confirm.html",
        ballot=item,
        closing=action == "close",
        post_to=url_for("decisions.step", ballot_id=item.id, action=action),
        publish_within=policy_for(item.compound_id).publish_within_days,
        form=ConfirmForm(),
        tally=tally,
        effect=effect,
        mode_label=MODE_LABELS.get(effect.mode) if effect.mode else None,
        steps=lifecycle.steps(item),
    )


@bp.route("/staff/ballots/<int:ballot_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(ballot_id: int):
    """Withdraw a notice before voting opens, saying why (owners read the reason)."""
    item = _staff_ballot(ballot_id)
    if item.status is not BallotStatus.NOTICE:
        flash(_("Only a notice can be withdrawn, and only before voting opens."), "error")
        return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    form = WithdrawForm()
    if _posted(form):
        try:
            lifecycle.withdraw_notice(
                item, "" if form.reason.errors else form.reason.data, actor=current_user
            )
        except drafts.BallotRejected as exc:
            _attach(form, exc.problems)
        except DomainError as exc:
            form.form_errors.append(_(exc.message, **exc.params))
        else:
            if not form.errors:
                flash(_("The notice is withdrawn. Owners see the reason on the ballot."), "success")
                return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    return render_template("decisions/withdraw.html", ballot=item, form=form), refused_status(form)


@bp.route("/staff/ballots/<int:ballot_id>/extend", methods=["GET", "POST"])
@login_required
def extend(ballot_id: int):
    """Move an open ballot's close later while turnout is short (announced, kept)."""
    item = _staff_ballot(ballot_id)
    if item.status is not BallotStatus.OPEN:
        flash(_("Only open voting can be extended."), "error")
        return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    form = ExtendForm()
    if request.method == "GET":
        form.closes_at.data = _local_input(item.closes_at + timedelta(days=7))
        form.reason.data = _("Not enough owners have voted yet.")
    elif _posted(form):
        closes_at = None if form.closes_at.errors else _to_utc(form.closes_at.data)
        reason = "" if form.reason.errors else form.reason.data
        try:
            if form.errors:  # show the rules' reasons for the other fields too
                lifecycle.check_extension(item, closes_at, reason)
            else:
                lifecycle.extend_ballot(item, closes_at, reason, actor=current_user)
        except drafts.BallotRejected as exc:
            _attach(form, exc.problems)
        except DomainError as exc:
            form.form_errors.append(_(exc.message, **exc.params))
        else:
            if not form.errors:
                flash(
                    _(
                        "Voting now closes on %(when)s. The new close is shown on the ballot "
                        "and the notice.",
                        when=fmt_full_datetime(item.closes_at),
                    ),
                    "success",
                )
                return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    return render_template(
        "decisions/extend.html", ballot=item, form=form, tally=tallying.tally_dict(item)
    ), refused_status(form)


@bp.get("/staff/ballots/<int:ballot_id>/verify")
@login_required
def verify(ballot_id: int):
    """Recompute the vote log's hash chain."""
    item = _staff_ballot(ballot_id)
    result = tallying.verify_log(item)
    if result.ok:
        flash(_("The vote log is intact: %(n)s entries checked.", n=result.entries), "success")
    else:
        flash(
            _(
                "The vote log is BROKEN at entry %(seq)s: %(reason)s",
                seq=result.broken_seq or "-",
                reason=_(result.reason),
            ),
            "error",
        )
    return redirect(url_for("decisions.dashboard", ballot_id=item.id))


@bp.get("/staff/ballots/<int:ballot_id>/missing")
@login_required
def missing(ballot_id: int):
    """Homes whose owners have not voted yet, for door-knocking."""
    item = _staff_ballot(ballot_id)
    building = request.args.get("building", "")[:20]
    page = clamp_page(request.args.get("page", 1, type=int))
    return render_template(
        "decisions/missing.html",
        ballot=item,
        building=building,
        pagination=tallying.missing_voters(item, building=building, page=page),
    )


@bp.post("/staff/ballots/<int:ballot_id>/paper")
@login_required
def paper(ballot_id: int):
    """Record one paper ballot (or proxy) for a household."""
    item = _staff_ballot(ballot_id)
    form = _paper_form(item)
    if not _posted(form):
        return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    unit = form.unit.data or ""
    voter = None
    if not (form.building.errors or form.room.errors or form.unit.errors):
        voter = paper_entry.find_voter(item, form.building.data, unit, form.room.data)
        if voter is None:
            form.room.errors = [
                *form.room.errors,
                _(
                    "No home %(b)s-%(u)s-%(r)s in this ballot's scope.",
                    b=form.building.data,
                    u=unit or "-",
                    r=form.room.data,
                ),
            ]
    if form.errors:
        return _dashboard(item, paper_form=form, status=422)
    try:
        voting.cast_vote(
            item,
            voter,
            form.choice.data,
            actor=current_user,
            channel=models.Channel.PAPER,
            proxy_name=form.proxy_name.data,
        )
    except DomainError as exc:
        form.form_errors.append(_(exc.message, **exc.params))
        return _dashboard(item, paper_form=form, status=422)
    flash(
        _(
            "Paper ballot recorded for %(b)s-%(u)s-%(r)s.",
            b=form.building.data,
            u=unit or "-",
            r=form.room.data,
        ),
        "success",
    )
    return redirect(url_for("decisions.dashboard", ballot_id=item.id))


@bp.post("/staff/ballots/<int:ballot_id>/paper-import")
@login_required
def paper_import(ballot_id: int):
    """Import a file of paper ballots; a file with any bad row records nothing.

    The report stays on the page (422), never in the session cookie: a file can name a
    thousand columns or rows.
    """
    item = _staff_ballot(ballot_id)
    form = PaperImportForm()
    if not _posted(form):
        return redirect(url_for("decisions.dashboard", ballot_id=item.id))
    if form.errors:
        return _dashboard(item, import_form=form, status=422)
    upload = form.file.data
    try:
        count = paper_entry.import_paper(
            item, upload.read(), upload.filename or "", actor=current_user, translate=_
        )
    except FileRejected as exc:
        return render_template(
            "decisions/problems.html",
            ballot=item,
            problems=exc.problems[:PROBLEMS_SHOWN],
            more=max(0, len(exc.problems) - PROBLEMS_SHOWN),
            summary=_(exc.message, **exc.params),
        ), 422
    except DomainError as exc:
        form.file.errors = [_(exc.message, **exc.params)]
        return _dashboard(item, import_form=form, status=422)
    flash(_("%(n)s paper ballots recorded.", n=count), "success")
    return redirect(url_for("decisions.dashboard", ballot_id=item.id))


@bp.get("/staff/ballots/<int:ballot_id>/notice")
@login_required
def notice(ballot_id: int):
    """The printable A4 notice (公示) of the ballot or its result."""
    item = _staff_ballot(ballot_id)
    tally = tallying.tally_dict(item) if item.result_json else None
    return render_template("decisions/notice.html", ballot=item, result=tally)


@bp.get("/staff/ballots/<int:ballot_id>/votes.<fmt>")
@login_required
def export(ballot_id: int, fmt: str):
    """Every home's vote record as CSV or XLSX."""
    item = _staff_ballot(ballot_id)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    channels = {"online": _("online"), "paper": _("paper")}
    rows = [
        r[:5] + [_(r[5]) if r[5] else "", channels.get(r[6], "")] + r[7:]
        for r in tallying.vote_records(item, actor=current_user)
    ]
    data = (
        roster_rules.write_table_csv(tallying.EXPORT_HEADER, rows)
        if fmt == "csv"
        else roster_rules.write_table_xlsx(tallying.EXPORT_HEADER, rows, "votes")
    )
    response = make_response(data)
    response.headers["Content-Type"] = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = f"attachment; filename=ballot-{item.id}-votes.{fmt}"
    return response
