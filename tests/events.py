"""Listening to the events of app.core.events in tests."""

from contextlib import contextmanager

from app.extensions import db


@contextmanager
def heard(signal):
    """(sender, keyword arguments, the sender's status as stored when it was sent) for every
    send inside the block: an event goes out after the commit, so the status is the new one."""
    seen = []

    def receiver(sender, **kw):
        db.session.expire_all()
        stored = db.session.get(type(sender), sender.id)
        seen.append((sender, kw, getattr(stored, "status", None)))

    signal.connect(receiver)
    try:
        yield seen
    finally:
        signal.disconnect(receiver)
