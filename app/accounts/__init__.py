"""Sign-in, QR activation, household letters, staff accounts."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from app.accounts import routes  # noqa: E402,F401
