"""What residents owe and how they can pay: cost items, bills, payments, funds, income."""

from flask import Blueprint

bp = Blueprint("dues", __name__)

from app.dues import routes, staff_income, staff_items, staff_routes  # noqa: E402,F401
