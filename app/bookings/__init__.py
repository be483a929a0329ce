"""Happiness canteen (幸福食堂) and the 4:30 after-school classroom (四点半课堂)."""

from flask import Blueprint

bp = Blueprint("bookings", __name__)

from app.bookings import routes, staff_routes  # noqa: E402,F401
