"""Owner decisions: ballots, votes, paper entries, tallies and results."""

from flask import Blueprint

bp = Blueprint("decisions", __name__)

from app.decisions import routes, staff_routes  # noqa: E402,F401
