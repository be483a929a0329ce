"""Events: what happened, announced once by the feature it happened in.

Each state change is sent from one place in its feature's services, inside the change's
transaction, once it is flushed and just before it commits: a subscriber sees it in the
database, and what the subscriber adds to the session (an inbox message, an SMS in the
outbox, a notice on the board) commits with the change or not at all. Features that must
react to another feature's change (notifications, the programme overview, caches) connect
to these signals instead of importing the emitter, and the emitter never knows who
listens.

    from app.core import events
    events.payment_confirmed.send(payment, actor=user)

    @events.payment_confirmed.connect
    def tell_the_payer(payment, actor=None, **extra): ...

The sender is the object that changed; keyword arguments say who acted and how. A
subscriber adds to the session and never commits; what it needs done outside the
request it asks for with `app.core.jobs.enqueue`, which waits for the commit. A
subscriber that raises undoes the change: keep them to writes that cannot fail.
"""

from blinker import Namespace

_signals = Namespace()

# Preferences (core).
locale_chosen = _signals.signal("locale-chosen")  # sender: the user; code=

# Owner decisions.
ballot_published = _signals.signal("ballot-published")  # notice posted; actor=
ballot_withdrawn = _signals.signal("ballot-withdrawn")  # notice taken back; actor=, reason=
ballot_opened = _signals.signal("ballot-opened")  # voting open; actor=
ballot_extended = _signals.signal("ballot-extended")  # close moved later; actor=, closes_at=
ballot_closed = _signals.signal("ballot-closed")  # tally recorded; actor=
result_published = _signals.signal("result-published")  # actor=
vote_cast = _signals.signal("vote-cast")  # sender: the ballot; voter_key=, channel=, actor=

# Dues.
payment_recorded = _signals.signal("payment-recorded")  # sender: the payment; actor=
payment_withdrawn = _signals.signal("payment-withdrawn")  # actor=
payment_confirmed = _signals.signal("payment-confirmed")  # actor=
payment_rejected = _signals.signal("payment-rejected")  # actor=, reason=

# Repairs: every status change, from the report on (report, decline and transitions
# all go through one path).
ticket_status_changed = _signals.signal("ticket-status-changed")
# sender: the ticket; before= (None for a new report), after=, actor= (None: automatic)

# Bookings.
meal_booked = _signals.signal("meal-booked")  # sender: the booking; actor=
booking_cancelled = _signals.signal("booking-cancelled")  # sender: a meal or class booking;
#                                                           actor=, by_operator=
class_booked = _signals.signal("class-booked")  # sender: the booking; waitlisted=
waitlist_promoted = _signals.signal("waitlist-promoted")  # sender: the class booking
child_checked_in = _signals.signal("child-checked-in")  # sender: the booking; actor=
child_collected = _signals.signal("child-collected")  # sender: the booking; actor=, adult=

# Compounds.
acceptance_completed = _signals.signal("acceptance-completed")  # sender: the acceptance
#                                                                 record; actor=
compound_changed = _signals.signal("compound-changed")  # sender: the compound; fields=
roster_imported = _signals.signal("roster-imported")  # sender: the compound; rows=

ALL = {name: signal for name, signal in _signals.items()}
