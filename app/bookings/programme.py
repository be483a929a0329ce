"""What the programme's overview reads of the canteen, for many compounds at once: meals
served in a month (the same count as the canteen's month figures), in one statement."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.bookings.models import BookingStatus, MealBooking, MealLine, MealSession
from app.extensions import db


def meals_served_by_compound(compound_ids: list[int], year: int, month: int) -> dict[int, int]:
    first = date(year, month, 1)
    after = date(year + (month == 12), month % 12 + 1, 1)
    found = dict.fromkeys(compound_ids, 0)
    if not compound_ids:
        return found
    for compound_id, served in db.session.execute(
        sa.select(MealSession.compound_id, sa.func.count(MealLine.id))
        .join(MealBooking, MealBooking.id == MealLine.booking_id)
        .join(MealSession, MealSession.id == MealBooking.session_id)
        .where(
            MealSession.compound_id.in_(compound_ids),
            MealSession.day >= first,
            MealSession.day < after,
            MealBooking.status == BookingStatus.BOOKED,
            MealLine.served_at.is_not(None),
        )
        .group_by(MealSession.compound_id)
    ):
        found[compound_id] = served
    return found
