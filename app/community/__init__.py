"""Compounds, buildings, dwellings, people and the roster."""

from flask import Blueprint

bp = Blueprint("community", __name__)

from app.community import routes  # noqa: E402,F401
