"""Allocations to the fen and fund eligibility: boundary tables and properties."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.dues import rules
from app.dues.rules import AllocationError, Elevator, Reason


def test_awkward_total_over_unequal_areas_sums_exactly():
    areas = {
        1: Decimal("45.10"),
        2: Decimal("63.25"),
        3: Decimal("88.88"),
        4: Decimal("101.01"),
        5: Decimal("56.00"),
        6: Decimal("72.33"),
        7: Decimal("119.99"),
    }
    shares = rules.by_area(10_000_001, areas)  # ¥100,000.01
    assert sum(shares.values()) == 10_000_001
    assert shares[7] > shares[1] and all(v > 0 for v in shares.values())


def test_ties_are_broken_by_dwelling_id():
    assert rules.per_dwelling(100, [3, 1, 2]) == {3: 33, 1: 34, 2: 33}
    assert rules.per_dwelling(2, [9, 4, 7]) == {9: 0, 4: 1, 7: 1}


def test_opt_in_only_the_dwellings_that_ordered():
    shares = rules.opt_in(1000, [2, 5], [1, 2, 3, 4, 5])
    assert shares == {1: 0, 2: 500, 3: 0, 4: 0, 5: 500}
    with pytest.raises(AllocationError):
        rules.opt_in(1000, [9], [1, 2])
    with pytest.raises(AllocationError):
        rules.opt_in(1000, [], [1, 2])


COEFFICIENTS = {1: "0", 2: "0", 3: "0.7", 4: "0.8", 5: "0.9", 6: "1.0"}


def test_elevator_floor_coefficients_and_subsidy():
    homes = {floor: (floor, Decimal("60.00")) for floor in range(1, 7)}
    shares = rules.elevator(
        Elevator(total_fen=60_000_000, subsidy_fen=20_000_000), homes, COEFFICIENTS
    )
    assert shares[1] == shares[2] == 0
    assert sum(shares.values()) == 40_000_000
    assert shares[3] < shares[4] < shares[5] < shares[6]
    assert shares[6] * Fraction(7, 10) == pytest.approx(shares[3], abs=1)


def test_subsidy_larger_than_the_cost_leaves_nothing_to_pay():
    homes = {1: (3, Decimal("50")), 2: (4, Decimal("50"))}
    assert rules.elevator(Elevator(1000, 5000), homes, COEFFICIENTS) == {1: 0, 2: 0}


def test_every_floor_needs_a_coefficient_and_weights_cannot_all_be_zero():
    with pytest.raises(AllocationError):
        rules.elevator(Elevator(1000, 0), {1: (9, Decimal("50"))}, COEFFICIENTS)
    with pytest.raises(AllocationError):
        rules.elevator(Elevator(1000, 0), {1: (1, Decimal("50"))}, COEFFICIENTS)


@given(
    st.integers(0, 10**11),
    st.dictionaries(
        st.integers(1, 10_000), st.integers(0, 1_000_000), min_size=1, max_size=60
    ).filter(lambda w: any(w.values())),
)
def test_allocations_always_sum_to_the_total_and_never_go_negative(total, weights):
    shares = rules.allocate(total, weights)
    assert sum(shares.values()) == total and min(shares.values()) >= 0
    whole = sum(weights.values())
    for key, weight in weights.items():  # within one fen of the exact quota
        assert abs(Fraction(shares[key]) - Fraction(total * weight, whole)) < 1
        if weight == 0:
            assert shares[key] == 0


def test_provident_fund_eligibility():
    args = {
        "own_home_item": True,
        "accepted_on": date(2026, 6, 1),
        "already_used": False,
        "share_fen": 1_500_000,
        "subsidy_fen": 200_000,
    }
    assert rules.provident_fund(today=date(2026, 5, 31), **args).reason is Reason.BEFORE_ACCEPTANCE
    ok = rules.provident_fund(today=date(2026, 6, 1), **args)
    assert ok.eligible and ok.max_fen == 1_300_000
    assert (
        rules.provident_fund(today=date(2026, 7, 1), **{**args, "already_used": True}).reason
        is Reason.ALREADY_USED
    )
    assert (
        rules.provident_fund(today=date(2026, 7, 1), **{**args, "own_home_item": False}).reason
        is Reason.NOT_OWN_HOME
    )


def test_maintenance_fund_needs_an_approved_decision():
    assert (
        rules.maintenance_fund(
            balance_fen=100_000, approved_decision=False, emergency_approved=False, owed_fen=50_000
        ).reason
        is Reason.NO_DECISION
    )
    use = rules.maintenance_fund(
        balance_fen=30_000, approved_decision=True, emergency_approved=False, owed_fen=50_000
    )
    assert use.eligible and use.max_fen == 30_000
    assert rules.fund_is_low(29_999, 100_000) and not rules.fund_is_low(30_000, 100_000)


@pytest.mark.parametrize(
    "start, today, months",
    [
        (date(2026, 1, 15), date(2026, 1, 14), 0),
        (date(2026, 1, 15), date(2026, 1, 15), 0),
        (date(2026, 1, 15), date(2026, 2, 14), 0),
        (date(2026, 1, 15), date(2026, 2, 15), 1),
        (date(2026, 1, 15), date(2027, 1, 15), 12),
        # a month that starts on the 31st completes on the last day of a shorter month
        (date(2025, 12, 31), date(2026, 1, 30), 0),
        (date(2025, 12, 31), date(2026, 1, 31), 1),
        (date(2025, 12, 31), date(2026, 2, 27), 1),
        (date(2025, 12, 31), date(2026, 2, 28), 2),
    ],
)
def test_months_due(start, today, months):
    assert rules.months_due(start, today) == months


def test_monthly_fee_rounds_half_up_to_the_fen():
    assert rules.monthly_fee(Decimal("30"), Decimal("65.50")) == 1965
    assert rules.monthly_fee(Decimal("30"), Decimal("65.55")) == 1967  # 1966.5 → 1967


# --- allocate_capped: public income offsetting shares, nobody credited past what they owe ---


def test_capped_hand_checked_examples():
    # 1000 by 1:1:2 is 250/250/500, but key 1 owes only 100; the other 900 go 1:2.
    assert rules.allocate_capped(1000, {1: 1, 2: 1, 3: 2}, {1: 100, 2: 1000, 3: 1000}) == {
        1: 100,
        2: 300,
        3: 600,
    }
    # Capping cascades: 25 each is too much for key 1 (cap 10); then 30 each is too much for
    # key 2 (cap 28); the last 62 go 31/31.
    assert rules.allocate_capped(
        100, dict.fromkeys([1, 2, 3, 4], 1), {1: 10, 2: 28, 3: 1000, 4: 1000}
    ) == {1: 10, 2: 28, 3: 31, 4: 31}
    # Rounding: 10 over three equal weights is 4/3/3 (spare fen to the smaller key); key 1
    # takes only 2, and the 8 left split 4/4.
    assert rules.allocate_capped(10, {1: 1, 2: 1, 3: 1}, {1: 2, 2: 100, 3: 100}) == {
        1: 2,
        2: 4,
        3: 4,
    }


def test_capped_refuses_more_than_can_be_taken_and_negative_input():
    weights = {1: Decimal("72.33"), 2: Decimal("0"), 3: Decimal("88.88")}
    caps = {1: 500, 2: 10_000, 3: 0}  # key 2 has no area, key 3 owes nothing
    assert rules.allocate_capped(500, weights, caps) == {1: 500, 2: 0, 3: 0}
    with pytest.raises(AllocationError):
        rules.allocate_capped(501, weights, caps)
    with pytest.raises(AllocationError):
        rules.allocate_capped(-1, weights, caps)
    with pytest.raises(AllocationError):
        rules.allocate_capped(1, {1: 1}, {1: -5})


@st.composite
def capped_case(draw):
    """Areas (some zero) and what each home still owes (some zero, some missing)."""
    keys = draw(st.lists(st.integers(1, 500), min_size=1, max_size=40, unique=True))
    area = st.one_of(st.integers(0, 3), st.integers(0, 20_000))  # equal areas tie often
    weights = {key: Decimal(draw(area)) / 100 for key in keys}
    owed = st.one_of(st.integers(0, 30), st.integers(0, 10**8))  # small caps bind often
    caps = {key: draw(owed) for key in keys if draw(st.booleans()) or draw(st.booleans())}
    room = sum(caps.get(key, 0) for key, w in weights.items() if w > 0)
    return weights, caps, room


@given(capped_case(), st.data())
def test_capped_sums_exactly_within_caps(case, data):
    weights, caps, room = case
    total = data.draw(st.integers(0, room))
    shares = rules.allocate_capped(total, weights, caps)
    assert set(shares) == set(weights)
    assert sum(shares.values()) == total
    for key, fen in shares.items():
        assert 0 <= fen <= caps.get(key, 0)
        if weights[key] == 0 or caps.get(key, 0) == 0:
            assert fen == 0


@given(capped_case(), st.integers(1, 10**9))
def test_capped_raises_when_the_total_exceeds_what_can_be_taken(case, excess):
    weights, caps, room = case
    with pytest.raises(AllocationError):
        rules.allocate_capped(room + excess, weights, caps)


@given(capped_case(), st.data())
def test_capped_is_plain_allocation_when_no_cap_binds(case, data):
    weights, _, _ = case
    assume(any(weights.values()))
    total = data.draw(st.integers(0, 10**9))
    generous = dict.fromkeys(weights, total)
    assert rules.allocate_capped(total, weights, generous) == rules.allocate(total, weights)


def test_add_months_clips_to_the_month_end_without_drifting():
    start = date(2025, 12, 31)
    assert [rules.add_months(start, k) for k in range(4)] == [
        date(2025, 12, 31),
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


def test_a_new_rate_bills_only_months_that_begin_after_it():
    rates = [(date(2026, 1, 1), Decimal("30")), (date(2026, 6, 15), Decimal("50"))]
    # months begin on the 1st: January-June at ¥0.30 (June began before the 15th),
    # July-October at ¥0.50; November is not yet served on the 26th
    periods = rules.fee_periods(date(2026, 1, 1), date(2026, 11, 26), rates)
    assert periods == [(Decimal("30"), 6), (Decimal("50"), 4)]
    assert rules.fee_owed(periods, Decimal("72.33")) == 6 * 2170 + 4 * 3617
    assert rules.fee_periods(date(2026, 1, 1), date(2026, 11, 26), []) == []
    # a rate entered after the start date still covers the months before it
    assert rules.fee_periods(
        date(2026, 1, 1), date(2026, 3, 1), [(date(2026, 2, 10), Decimal("30"))]
    ) == [(Decimal("30"), 2)]


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=120),
)
def test_months_due_counts_the_months_that_have_ended(start, months):
    end = rules.add_months(start, months)
    assert rules.months_due(start, end) == months
    if end > start:
        assert rules.months_due(start, end - timedelta(days=1)) == months - 1


@given(
    st.integers(min_value=0, max_value=10**11),
    st.lists(st.integers(min_value=0, max_value=200_00), min_size=1, max_size=40),
)
def test_by_area_with_real_areas_is_exact(total, hundredths):
    areas = {n: Decimal(h) / 100 for n, h in enumerate(hundredths)}
    assume(total == 0 or any(areas.values()))
    shares = rules.by_area(total, areas)
    assert sum(shares.values()) == total and min(shares.values()) >= 0
    assert all(shares[n] == 0 for n, area in areas.items() if area == 0)


@given(
    st.integers(min_value=0, max_value=10**10),
    st.integers(min_value=0, max_value=10**10),
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=9), st.integers(min_value=1, max_value=200_00)
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_elevator_shares_are_exact_and_low_floors_pay_nothing(total, subsidy, homes):
    table = {1: "0", 2: "0", 3: "0.7", 4: "0.8", 5: "0.9", 6: "1.0", 7: "1.1", 8: "1.2", 9: "1.25"}
    assume(any(floor >= 3 for floor, _ in homes) or total <= subsidy)
    item = rules.Elevator(total, subsidy)
    shares = rules.elevator(
        item, {n: (floor, Decimal(h) / 100) for n, (floor, h) in enumerate(homes)}, table
    )
    assert sum(shares.values()) == item.to_allocate == max(total - subsidy, 0)
    assert all(shares[n] == 0 for n, (floor, _) in enumerate(homes) if floor <= 2)
    assert min(shares.values()) >= 0


@pytest.mark.parametrize(
    "recorded_it, for_item, owner, committee_note, visible",
    [
        (True, False, False, False, True),  # the payer always
        (False, True, True, True, True),  # the owner: the committee's note on an item
        (False, False, True, True, False),  # a note on the property fee stays with staff
        (False, True, False, True, False),  # a tenant does not see an item's notes
        (False, True, True, False, False),  # another person's own payment details
    ],
)
def test_who_sees_a_payments_details(recorded_it, for_item, owner, committee_note, visible):
    assert (
        rules.payment_details_visible(
            recorded_it=recorded_it, for_item=for_item, owner=owner, committee_note=committee_note
        )
        is visible
    )
