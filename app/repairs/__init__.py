"""Repairs after handover: facility register with QR stickers, reports, the repair queue."""

from flask import Blueprint

bp = Blueprint("repairs", __name__)

from app.repairs import routes  # noqa: E402,F401
