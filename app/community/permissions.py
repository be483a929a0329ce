"""Staff pages of one compound: a decorator that names the capability a page needs.

    @bp.get("/staff/compounds/<int:compound_id>/dues")
    @compound_staff_required(Capability.SEE_DUES)
    def staff_dues(compound): ...

The view receives the compound instead of its id; a person without the capability there
(or a forged id) gets 404, never a hint that the compound exists.
"""

from functools import wraps

from flask_login import current_user, login_required

from app.accounts.permissions import Capability
from app.community.services import get_compound_for_staff


def compound_staff_required(*capabilities: Capability):
    """Pass the compound to the view if the user may do one of these things there (any
    staff role when none is named), else 404."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(compound_id: int, **kwargs):
            compound = get_compound_for_staff(compound_id, current_user, *capabilities)
            return view(compound, **kwargs)

        wrapped.capabilities = capabilities
        return wrapped

    return decorator
