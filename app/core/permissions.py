"""Role checks for pages; object loaders that scope by compound live in services."""

from functools import wraps

from flask_login import current_user, login_required

from app.accounts.models import Role


def compound_staff_required(*roles: Role):
    """Pass the compound to the view if the user holds one of the roles there, else 404.

    The view is called as view(compound, **kwargs) instead of view(compound_id, ...).
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(compound_id: int, **kwargs):
            from app.community.services import get_compound_for_staff

            compound = get_compound_for_staff(compound_id, current_user, *roles)
            return view(compound, **kwargs)

        return wrapped

    return decorator
