"""Domain errors raised by services and shown to people in their language."""


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


class DomainError(Exception):
    """A rule said no. message is an English msgid with %(name)s placeholders."""

    def __init__(self, message: str, **params):
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params


class FieldError(DomainError):
    """A rule said no about one input: field is the input's name on the form, so the page
    shows the message next to it (and keeps what was typed)."""

    def __init__(self, field: str, message: str, **params):
        super().__init__(message, **params)
        self.field = field


class NotFound(DomainError):
    """The object does not exist or is not the acting user's to see."""

    def __init__(self):
        super().__init__(N_("Not found."))
