"""A refusal that belongs next to one field of a dues form."""

from app.core.errors import DomainError, FieldError, NotFound  # noqa: F401  (re-exported)


def field_of(exc: DomainError, default: str = "") -> str:
    """The form field a refusal belongs to ("" for the form as a whole)."""
    return getattr(exc, "field", default) or default


class FormErrors(dict):
    """A refused form's messages by field name ('' for the form as a whole), translated
    for the page; every refusal is collected so the person sees all of them at once."""

    def add(self, exc: DomainError, default: str = "") -> None:
        from flask_babel import gettext

        self.setdefault(field_of(exc, default), []).append(gettext(exc.message, **exc.params))

    def attempt(self, parse, *args, default: str = "", **kwargs):
        """parse(*args, **kwargs), or None with its refusal collected."""
        try:
            return parse(*args, **kwargs)
        except NotFound:
            raise  # a forged id stays a 404
        except DomainError as exc:
            self.add(exc, default)
        return None

    expired = False  # the form's CSRF token had expired: a malformed request

    @property
    def status(self) -> int:
        """422 when the form was refused (the page shows why), 400 when it had expired,
        else 200."""
        return 422 if self else 400 if self.expired else 200
