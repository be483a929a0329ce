"""What each staff role may do, as capabilities: one enum and one table.

Pages and services ask for a capability in a compound ("may this person confirm
payments in 金源新村?"), never for a list of roles, so a new role is one line in
ROLE_CAPABILITIES and a new page names what it needs. No Flask here.
"""

from __future__ import annotations

import enum

from app.accounts.roles import Role


class Capability(enum.Enum):
    SEE_COMPOUND = "see_compound"  # the staff page of a compound
    SEE_HOMES = "see_homes"  # homes and the people in them (phones masked), home search
    MANAGE_ROSTER = "manage_roster"  # roster, letters, phones checked in person, contact
    #                                 data deleted on request, the compound's stage and dates
    RUN_VOTES = "run_votes"  # ballots: drafts, notice, voting, paper ballots, results
    SEE_DUES = "see_dues"  # the dues overview and statements; cost items added and changed
    MANAGE_PAYMENTS = "manage_payments"  # confirm and reject payments, public income entries,
    #                                     fund balances, the property fee
    APPROVE_DUES = "approve_dues"  # hardship subsidies, the fund gate and emergencies, using
    #                               public income
    RUN_CANTEEN = "run_canteen"  # meals, menus, the kitchen sheet, serving, figures
    RUN_CLASSROOM = "run_classroom"  # class sessions, the register, pick-up
    HANDLE_REPAIRS = "handle_repairs"  # every ticket, the facility register and stickers
    WORK_ON_REPAIRS = "work_on_repairs"  # the tickets routed to one's own firm under warranty
    POST_NOTICES = "post_notices"  # the compound's notice board: post, pin, take down


C = Capability
_COMMITTEE = {
    C.SEE_COMPOUND,
    C.SEE_HOMES,
    C.MANAGE_ROSTER,
    C.RUN_VOTES,
    C.SEE_DUES,
    C.APPROVE_DUES,
    C.POST_NOTICES,
}
_PROPERTY = {
    C.SEE_COMPOUND,
    C.SEE_HOMES,
    C.SEE_DUES,
    C.MANAGE_PAYMENTS,
    C.HANDLE_REPAIRS,
    C.POST_NOTICES,
}

ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.COMMITTEE: frozenset(_COMMITTEE),
    Role.PROPERTY_MANAGER: frozenset(_PROPERTY),
    Role.CANTEEN_OPERATOR: frozenset({C.SEE_COMPOUND, C.RUN_CANTEEN}),
    Role.CLASSROOM_OPERATOR: frozenset({C.SEE_COMPOUND, C.RUN_CLASSROOM}),
    # The street office organises decisions and runs the fallback manager: everything a
    # compound's own staff do, except a contractor's warranty work.
    Role.STREET_ADMIN: frozenset(set(Capability) - {C.WORK_ON_REPAIRS}),
    Role.CONTRACTOR: frozenset({C.SEE_COMPOUND, C.WORK_ON_REPAIRS}),
    # The city reads the programme's overview (app/programme); it holds no compound's
    # roles, so it has nothing here.
    Role.CITY_ADMIN: frozenset(),
}


def roles_with(*capabilities: Capability) -> tuple[Role, ...]:
    """The roles holding any of the capabilities (for queries over role grants)."""
    return tuple(r for r, caps in ROLE_CAPABILITIES.items() if caps & set(capabilities))
