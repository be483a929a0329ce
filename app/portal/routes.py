"""What spans features: the signed-in person's home with their to-do list, the staff
page of a compound, and the compound's public page."""

from flask import render_template
from flask_login import current_user, login_required

from app.bookings.forms import MEAL_LABELS
from app.community import notices, places
from app.community import services as community
from app.community.forms import (
    MODE_LABELS,
    NOTICE_KIND_LABELS,
    RELATION_LABELS,
    STAGE_LABELS,
    STAGE_STEPS,
)
from app.community.models import Stage
from app.community.permissions import compound_staff_required
from app.core import pagecache
from app.decisions import queries as decisions
from app.decisions.forms import verdict
from app.portal import bp
from app.portal import todo as todo_list


@bp.context_processor
def labels():
    """The words of other features the portal's pages show (each feature's own pages get
    theirs from its blueprint)."""
    return {
        "STAGE_LABELS": STAGE_LABELS,
        "MODE_LABELS": MODE_LABELS,
        "RELATION_LABELS": RELATION_LABELS,
        "Stage": Stage,
        "ballot_verdict": verdict,
        "MEAL_LABELS": MEAL_LABELS,
        "STAGE_STEPS": STAGE_STEPS,
        "NOTICE_KIND_LABELS": NOTICE_KIND_LABELS,
    }


@bp.get("/home")
@login_required
@pagecache.per_person
def home():
    """Show a resident their homes and everything waiting for them; staff their compounds."""
    dwellings = community.dwellings_of(current_user)
    relations = {d.id: community.relation_of(current_user, d) for d in dwellings}
    # Residents without staff roles oversee nothing: no query for them.
    oversees = (current_user.grants or not dwellings) and places.oversight_of(current_user).any
    board = notices.for_homes(dwellings)
    return render_template(
        "portal/home.html",
        dwellings=dwellings,
        relations=relations,
        compounds=community.staff_compounds(current_user),
        todo=todo_list.todo_for(current_user, dwellings) if dwellings else None,
        TODO=todo_list,
        has_ballots=bool(dwellings) and bool(decisions.ballots_for_resident(current_user)),
        oversees=oversees,
        board=board,
        board_compounds=list({c.id: c for c, _n in board}.values()),
    )


@bp.get("/c/<int:compound_id>")
def compound_page(compound_id: int):
    """The compound's public page (what the poster QR opens): no personal data."""
    compound = community.get_compound_or_404(compound_id)
    return render_template(
        "portal/compound.html",
        compound=compound,
        counts=community.compound_counts(compound.id),
        decisions=decisions.published_ballots(compound.id),
        history=places.stage_history(compound.id),
    )


@bp.get("/staff/compounds/<int:compound_id>")
@compound_staff_required()
@pagecache.per_staff
def staff_compound(compound):
    """The staff overview of one compound: figures for every role, tools by capability."""
    return render_template(
        "portal/staff_compound.html",
        compound=compound,
        counts=community.compound_counts(compound.id),
    )
