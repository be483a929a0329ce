"""Reaching residents (DESIGN §10): every event that concerns someone in their inbox and,
where they agreed, as an SMS sent by a worker from the outbox; the committee's reminders
to owners who have not voted, with the door-knocking sheet; the minute's round of
closing votes and overdue repairs. The notice board itself is the compound's
(app/community/notices.py); what posts to it by itself is subscribed here."""

from flask import Blueprint

bp = Blueprint("reach", __name__)

from app.core import jobs, pagecache  # noqa: E402
from app.reach import models as _models  # noqa: E402,F401  (register tables)
from app.reach import routes  # noqa: E402,F401
from app.reach import subscribers as _subscribers  # noqa: E402,F401  (connect to events)

jobs.every(60, "app.reach.jobs.tick")
# Delivery bookkeeping: no page shows it as data (a worker's writes move no page).
pagecache.ignore("sms_messages", "message_rounds")
