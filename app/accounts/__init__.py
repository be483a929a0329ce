"""Accounts: sign-in and sessions, staff roles and what each may do (capabilities)."""

from flask import Blueprint
from flask_login import current_user

from app.accounts.permissions import Capability

bp = Blueprint("accounts", __name__)


@bp.app_context_processor
def permissions():
    """can(compound_id, Capability.X) in every template: whether the signed-in person may."""

    def can(compound_id: int, *capabilities: Capability) -> bool:
        return bool(current_user.is_authenticated and current_user.can(compound_id, *capabilities))

    return {"can": can, "Capability": Capability}


from app.accounts import routes  # noqa: E402,F401
