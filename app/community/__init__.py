"""Compounds, buildings, dwellings, the people in them, the roster, and the household
letters that link a home to an account."""

from flask import Blueprint

bp = Blueprint("community", __name__)

from app.community import letter_routes, notice_routes, routes  # noqa: E402,F401
