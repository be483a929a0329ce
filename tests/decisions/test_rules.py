"""The Civil Code double rule, pinned at its boundaries, and checked against brute force."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.decisions import rules
from app.decisions.rules import Meaning, OptionCount, Outcome, Rule, Threshold

MAJOR = Threshold(Rule.MAJOR)
ORDINARY = Threshold(Rule.ORDINARY)


def yes_no(yes=(0, 0), no=(0, 0), abstain=(0, 0)):
    return [
        OptionCount(1, "Yes", Meaning.YES, *yes),
        OptionCount(2, "No", Meaning.NO, *no),
        OptionCount(3, "Abstain", Meaning.ABSTAIN, *abstain),
    ]


# --- quorum: >= 2/3 of area AND of voters -------------------------------------------------


@pytest.mark.parametrize(
    "voted_area, voted_voters, met",
    [
        (200, 2, True),  # exactly 2/3 of 300 area and of 3 voters: met ("以上" includes it)
        (199, 2, False),  # area just under 2/3
        (200, 1, False),  # voters under 2/3
        (300, 3, True),
    ],
)
def test_quorum_boundaries(voted_area, voted_voters, met):
    assert rules.quorum(300, 3, voted_area, voted_voters) is met


def test_quorum_on_awkward_totals():
    # 2/3 of 100001 centi-m² is 66667.33…: 66667 is short, 66668 is enough
    assert not rules.quorum(100001, 9, 66667, 9)
    assert rules.quorum(100001, 9, 66668, 6)
    assert not rules.quorum(100001, 9, 66668, 5)


# --- ordinary: strictly more than half -----------------------------------------------------


def test_exactly_half_is_not_more_than_half():
    result = rules.tally(ORDINARY, 400, 4, yes_no(yes=(200, 2), no=(200, 2)))
    assert result.quorum_met and not result.area_ok and not result.voters_ok
    assert not result.approved and result.outcome is Outcome.REJECTED


def test_just_over_half_passes_ordinary():
    result = rules.tally(ORDINARY, 401, 5, yes_no(yes=(201, 3), no=(200, 2)))
    assert result.approved and result.outcome is Outcome.PASSED


def test_ordinary_needs_both_area_and_headcount():
    area_only = rules.tally(ORDINARY, 1000, 5, yes_no(yes=(900, 2), no=(100, 3)))
    heads_only = rules.tally(ORDINARY, 1000, 5, yes_no(yes=(100, 3), no=(900, 2)))
    assert area_only.area_ok and not area_only.voters_ok and not area_only.approved
    assert heads_only.voters_ok and not heads_only.area_ok and not heads_only.approved


# --- major: at least three quarters ----------------------------------------------------------


def test_exactly_three_quarters_passes_major():
    result = rules.tally(MAJOR, 400, 4, yes_no(yes=(300, 3), no=(100, 1)))
    assert result.approved and result.outcome is Outcome.PASSED


def test_just_under_three_quarters_fails_major():
    result = rules.tally(MAJOR, 400, 4, yes_no(yes=(299, 3), no=(101, 1)))
    assert result.voters_ok and not result.area_ok and not result.approved


def test_abstention_counts_as_voted_not_yes():
    # 3 yes of 4 voted = 3/4 passes; an abstainer makes it 3 of 5 and it fails
    assert rules.tally(MAJOR, 500, 5, yes_no(yes=(300, 3), no=(100, 1))).approved
    result = rules.tally(MAJOR, 500, 5, yes_no(yes=(300, 3), no=(100, 1), abstain=(100, 1)))
    assert result.voted_voters == 5 and result.yes_voters == 3 and not result.approved


def test_no_quorum_means_no_decision():
    result = rules.tally(MAJOR, 900, 9, yes_no(yes=(500, 5)))
    assert not result.quorum_met and not result.approved
    assert result.outcome is Outcome.NO_QUORUM


def test_nobody_voted():
    for threshold in (MAJOR, ORDINARY):
        result = rules.tally(threshold, 900, 9, yes_no())
        assert not result.approved and result.outcome is Outcome.NO_QUORUM


def test_more_voted_than_in_scope_is_an_error():
    with pytest.raises(ValueError):
        rules.tally(MAJOR, 100, 1, yes_no(yes=(100, 2)))


# --- share of all voters (willingness preset) ---------------------------------------------


def test_share_of_all_counts_against_everyone_in_scope():
    two_thirds = Threshold(Rule.SHARE_OF_ALL, Fraction(2, 3))
    assert rules.tally(two_thirds, 900, 9, yes_no(yes=(100, 6))).approved  # 6/9 exactly
    assert not rules.tally(two_thirds, 900, 9, yes_no(yes=(800, 5), no=(100, 4))).approved


def test_share_must_be_a_proper_fraction():
    for share in (None, Fraction(0), Fraction(3, 2)):
        with pytest.raises(ValueError):
            Threshold(Rule.SHARE_OF_ALL, share)


# --- choosing a management mode -------------------------------------------------------------


def modes(pc=(0, 0), sg=(0, 0), abstain=(0, 0)):
    return [
        OptionCount(1, "Property company", Meaning.CHOICE, *pc),
        OptionCount(2, "Self-governance", Meaning.CHOICE, *sg),
        OptionCount(3, "Abstain", Meaning.ABSTAIN, *abstain),
    ]


def test_mode_with_double_majority_wins():
    result = rules.tally(ORDINARY, 1000, 10, modes(pc=(600, 6), sg=(300, 3)))
    assert result.outcome is Outcome.CHOSEN and result.winner.label == "Property company"


def test_no_mode_with_double_majority_falls_back():
    split = rules.tally(ORDINARY, 1000, 10, modes(pc=(600, 4), sg=(300, 4), abstain=(100, 2)))
    assert split.outcome is Outcome.FALLBACK and split.winner is None
    no_quorum = rules.tally(ORDINARY, 1000, 10, modes(pc=(600, 6)))
    assert no_quorum.outcome is Outcome.FALLBACK


# --- voters ---------------------------------------------------------------------------------


def test_owner_of_several_dwellings_is_one_voter():
    keys = rules.voter_keys({1: [10], 2: [11], 3: [10], 4: []})
    assert keys == {1: 1, 2: 2, 3: 1, 4: 4}


def test_co_owners_vote_once_per_dwelling_and_chains_do_not_merge():
    # 5 and 6 are both co-owned by A and B: the same owners, one voter
    assert rules.voter_keys({5: ["A", "B"], 6: ["B", "A"], 9: ["C"]}) == {5: 5, 6: 5, 9: 9}
    # B co-owns C's 202 and D's 101: three voters, not one (SPC art. 9: the same buyer)
    keys = rules.voter_keys({201: ["B"], 202: ["B", "C"], 101: ["B", "D"]})
    assert len(set(keys.values())) == 3


@pytest.mark.parametrize(
    "whole, share, needed",
    [
        (300, Fraction(2, 3), 200),
        (301, Fraction(2, 3), 201),
        (4000, Fraction(3, 4), 3000),
        (3999, Fraction(3, 4), 3000),
        (0, Fraction(2, 3), 0),
    ],
)
def test_needed_figures(whole, share, needed):
    assert rules.ceil_share(whole, share) == needed
    assert rules.at_least(needed, whole, share)
    assert needed == 0 or not rules.at_least(needed - 1, whole, share)


def test_more_than_half_figure():
    assert [rules.more_than_half(n) for n in (0, 1, 2, 3, 4, 10000)] == [1, 1, 2, 2, 3, 5001]


def test_tally_states_what_was_needed():
    result = rules.tally(MAJOR, 40000, 4000, yes_no(yes=(29990, 2999), no=(10010, 1001)))
    assert not result.approved
    assert (result.yes_area_needed, result.yes_voters_needed) == (30000, 3000)


def test_rank_items():
    ranked = rules.rank_items([["roads", "drainage"], ["roads"], ["roads", "roads"], []])
    assert ranked[0] == ("roads", 3) and ranked[1] == ("drainage", 1)
    assert [count for _, count in ranked[2:]] == [0] * 8


# --- brute force -----------------------------------------------------------------------------


def brute_force_groups(owners: dict[int, list]) -> list[set[int]]:
    """Dwellings grouped by exactly the same non-empty owner set; ownerless ones alone."""
    groups: list[set[int]] = []
    for dwelling in owners:
        for group in groups:
            other = next(iter(group))
            if owners[dwelling] and set(owners[other]) == set(owners[dwelling]):
                group.add(dwelling)
                break
        else:
            groups.append({dwelling})
    return groups


rosters = st.dictionaries(
    st.integers(1, 40), st.lists(st.integers(100, 115), max_size=2), min_size=1, max_size=25
)


@given(rosters)
def test_voter_keys_match_brute_force_grouping(owners):
    keys = rules.voter_keys(owners)
    by_key: dict[int, set[int]] = {}
    for dwelling, key in keys.items():
        by_key.setdefault(key, set()).add(dwelling)
    assert sorted(map(sorted, by_key.values())) == sorted(map(sorted, brute_force_groups(owners)))
    assert all(key == min(group) for key, group in by_key.items())


@settings(max_examples=300)
@given(
    total_voters=st.integers(1, 12),
    data=st.data(),
    rule=st.sampled_from([Rule.MAJOR, Rule.ORDINARY]),
)
def test_tally_matches_fraction_arithmetic(total_voters, data, rule):
    areas = data.draw(st.lists(st.integers(1, 20000), min_size=total_voters, max_size=total_voters))
    choices = data.draw(
        st.lists(
            st.sampled_from(["yes", "no", "abstain", None]),
            min_size=total_voters,
            max_size=total_voters,
        )
    )
    sums = {m: [0, 0] for m in ("yes", "no", "abstain")}
    for area, choice in zip(areas, choices, strict=True):
        if choice:
            sums[choice][0] += area
            sums[choice][1] += 1
    result = rules.tally(
        Threshold(rule),
        sum(areas),
        total_voters,
        yes_no(tuple(sums["yes"]), tuple(sums["no"]), tuple(sums["abstain"])),
    )
    voted_area = sum(s[0] for s in sums.values())
    voted = sum(s[1] for s in sums.values())
    quorum = Fraction(voted_area, sum(areas)) >= Fraction(2, 3) and Fraction(
        voted, total_voters
    ) >= Fraction(2, 3)
    if voted:
        ya, yv = Fraction(sums["yes"][0], voted_area), Fraction(sums["yes"][1], voted)
        ok = (
            (ya >= Fraction(3, 4) and yv >= Fraction(3, 4))
            if rule is Rule.MAJOR
            else (ya > Fraction(1, 2) and yv > Fraction(1, 2))
        )
    else:
        ok = False
    assert result.quorum_met is quorum
    assert result.approved is (quorum and ok)
