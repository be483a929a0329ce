"""What spans features: the resident's home and to-do list, the staff compound page,
the public compound page, the demo data and the command line. The only package that
imports every feature; nothing imports it but the application factory."""

from flask import Blueprint

bp = Blueprint("portal", __name__)

from app.portal import routes  # noqa: E402,F401
