"""Decision pages: residents read and vote; committee staff run, watch and publish."""

from datetime import date, datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.core import pagecache
from app.core.errors import DomainError
from app.core.i18n import fmt_full_date, fmt_full_datetime
from app.core.timeutil import local_to_utc
from app.decisions import bp, queries, roll, tallying, voting
from app.decisions.forms import (
    CATEGORY_LABELS,
    ITEM_LABELS,
    KIND_LABELS,
    OUTCOME_LABELS,
    RULE_LABELS,
    STATUS_LABELS,
    VoteForm,
    verdict,
)
from app.decisions.models import BallotStatus
from app.extensions import limiter

FLASH_LIMIT = 300  # characters of one flashed message: the session cookie stays small


@bp.context_processor
def labels():
    return {
        "KIND_LABELS": KIND_LABELS,
        "STATUS_LABELS": STATUS_LABELS,
        "OUTCOME_LABELS": OUTCOME_LABELS,
        "RULE_LABELS": RULE_LABELS,
        "CATEGORY_LABELS": CATEGORY_LABELS,
        "ITEM_LABELS": ITEM_LABELS,
        "BallotStatus": BallotStatus,
        "ballot_verdict": verdict,
        "tally_reading": tallying.reading,
    }


def _to_utc(value):
    """A Beijing wall-clock time from a form as UTC; absurd years become a clear error."""
    if value is None:
        return None
    try:
        return local_to_utc(value)
    except (OverflowError, ValueError):
        from datetime import UTC

        return datetime(1, 1, 2, tzinfo=UTC)  # refused by the service's date range


def _clip(text: str) -> str:
    return text if len(text) <= FLASH_LIMIT else text[: FLASH_LIMIT - 1] + "…"


def _problem_text(problem) -> str:
    """A field problem in the reader's language, its dates with the year."""
    params = {}
    for key, value in problem.params.items():
        if isinstance(value, datetime):
            value = fmt_full_datetime(value)
        elif isinstance(value, date):
            value = fmt_full_date(value)
        params[key] = value
    return _(problem.message, **params)


def _flash_refusal(exc: DomainError) -> None:
    """Flash why a step was refused, briefly (messages travel in the session cookie)."""
    parts = [_(exc.message, **exc.params)]
    parts += [_problem_text(p) for p in getattr(exc, "problems", [])[:5]]
    flash(_clip(" ".join(parts)), "error")


def _attach(form, problems) -> None:
    """Put each service problem next to its field; a field that already shows a form
    error keeps that one (it is the reason the value could not be read)."""
    already = {name for name, errors in form.errors.items() if errors and name}
    for problem in problems:
        field = getattr(form, problem.field, None)
        if field is None or not hasattr(field, "errors"):
            form.form_errors.append(_problem_text(problem))
        elif problem.field not in already:
            field.errors = [*field.errors, _problem_text(problem)]


def _posted(form) -> bool:
    """A POST whose CSRF token holds; its fields are validated (errors may remain)."""
    if not form.is_submitted():
        return False
    form.validate()
    return "csrf_token" not in form.errors


# --- residents ---------------------------------------------------------------------------


@bp.get("/ballots")
@login_required
@pagecache.per_person
def ballots():
    """The ballots that cover my homes."""
    return render_template(
        "decisions/list.html", ballots=queries.ballots_for_resident(current_user)
    )


def _vote_form(ballot, seat=None) -> VoteForm:
    form = VoteForm(prefix=f"s{seat.voter_key}" if seat else "")
    form.choice.choices = [(o.id, _(o.label)) for o in ballot.options]
    if seat and seat.vote and request.method == "GET":
        form.choice.data = seat.vote.option_id
        form.items.data = seat.vote.items.split(",") if seat.vote.items else []
    return form


def _ballot_page(item, seats, forms, status=200):
    owner_homes = (
        roll.owner_homes_in_scope(item, current_user)
        if item.status is BallotStatus.NOTICE and not seats
        else []
    )
    return render_template(
        "decisions/ballot.html",
        ballot=item,
        seats=seats,
        forms=forms,
        is_open=voting.is_open(item),
        result=_result(item),
        owner_homes=owner_homes,
    ), status


@bp.get("/ballots/<int:ballot_id>")
@login_required
@pagecache.per_person
def ballot(ballot_id: int):
    """Read the notice, vote or change my vote, see my receipt and the result."""
    item = queries.get_ballot_for_resident(ballot_id, current_user)
    seats = roll.seats_of(item, current_user)
    forms = {seat.voter_key: _vote_form(item, seat) for seat in seats}
    return _ballot_page(item, seats, forms)


def _result(item):
    if item.status is BallotStatus.PUBLISHED:
        return tallying.tally_dict(item)
    return None


@bp.post("/ballots/<int:ballot_id>/vote/<int:voter_key>")
@login_required
def vote(ballot_id: int, voter_key: int):
    """Cast or change my vote; double taps record one vote."""
    item = queries.get_ballot_for_resident(ballot_id, current_user)
    seats = roll.seats_of(item, current_user)
    seat = next((s for s in seats if s.voter_key == voter_key), None)
    if seat is None:
        flash(_("Only owners vote. Tenants can read the notice and the result."), "error")
        return redirect(url_for("decisions.ballot", ballot_id=item.id))
    form = _vote_form(item, seat)
    if not form.validate_on_submit():
        forms = {s.voter_key: form if s is seat else _vote_form(item, s) for s in seats}
        return _ballot_page(item, seats, forms, 422)
    try:
        result = voting.cast_vote(
            item,
            voter_key,
            form.choice.data,
            actor=current_user,
            items=form.items.data if item.ask_items else None,
        )
    except DomainError as exc:
        _flash_refusal(exc)
    else:
        flash(
            _(
                "Your vote is recorded. Receipt code: %(code)s. You can change your vote "
                "until the vote closes; the last one counts.",
                code=result.receipt,
            ),
            "success",
        )
    return redirect(url_for("decisions.ballot", ballot_id=item.id))


@bp.get("/receipts")
@limiter.limit("30 per minute")
def receipt():
    """Check with a receipt code that a vote is in the tally.

    Anyone holding the code learns only whether it counts; the choice itself is shown
    only to a signed-in owner of that vote (a receipt must not prove a vote to others).
    """
    code = request.args.get("code", "")[:32]
    check = voting.check_receipt(code) if code else None
    show_choice = bool(
        check
        and current_user.is_authenticated
        and any(
            seat.voter_key == check.event.voter_key
            for seat in roll.seats_of(check.ballot, current_user)
        )
    )
    return render_template(
        "decisions/receipt.html",
        code=code,
        check=check,
        show_choice=show_choice,
        still_open=check is not None
        and check.ballot.status in (BallotStatus.NOTICE, BallotStatus.OPEN),
    )
