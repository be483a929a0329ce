"""The programme above the compound: the street offices' and the city's overview of
every compound (stage, decisions, money, repairs, meals), its reports (XLSX, JSON for
a token), and the web forms that bring a new compound and its staff on board. It reads
each feature's figures through that feature's public functions, never its tables."""

from flask import Blueprint

bp = Blueprint("programme", __name__)

from app.programme import routes  # noqa: E402,F401
