"""The SQL tally equals a brute-force recount on random rosters and votes."""

from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.community.models import Occupancy, Relation
from app.decisions import tallying, voting
from app.decisions.models import BallotKind
from app.extensions import db
from tests.decisions.conftest import DURING, Estate, open_ballot, option
from tests.decisions.test_rules import brute_force_groups
from tests.fixtures.factories import make_compound, make_dwelling, make_person

homes = st.lists(
    st.tuples(
        st.integers(1, 9999),  # area in centi-m²
        st.lists(st.integers(0, 5), max_size=2),  # owner indexes (co-owners)
        st.sampled_from([None, 1, 2, 3]),
    ),  # the position this home's voter picks
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(homes)
def test_sql_tally_matches_brute_force(app, drawn):
    compound = make_compound()
    people = [make_person(compound, f"owner{i}", phone=f"1380000{i:04d}") for i in range(6)]
    dwellings = []
    for index, (area, owners, _choice) in enumerate(drawn):
        home = make_dwelling(
            compound, building="1", room=str(100 + index), area=str(Decimal(area) / 100)
        )
        for owner in set(owners):
            db.session.add(
                Occupancy(dwelling_id=home.id, person_id=people[owner].id, relation=Relation.OWNER)
            )
        dwellings.append(home)
    db.session.commit()
    ballot = open_ballot(Estate(compound, {}, {}), BallotKind.GENERAL)

    # Brute force: group homes by shared owners; the last home's choice in a group wins.
    owners = {d.id: [f"p{o}" for o in set(drawn[i][1])] for i, d in enumerate(dwellings)}
    groups = brute_force_groups(owners)
    choice_of = {d.id: drawn[i][2] for i, d in enumerate(dwellings)}
    area_of = {d.id: drawn[i][0] for i, d in enumerate(dwellings)}
    expected = {1: [0, 0], 2: [0, 0], 3: [0, 0]}
    for group in groups:
        picks = [choice_of[d] for d in sorted(group) if choice_of[d]]
        if picks:
            expected[picks[-1]][0] += sum(area_of[d] for d in group)
            expected[picks[-1]][1] += 1
        for d in sorted(group):  # cast in the same order: the last pick counts
            if choice_of[d]:
                voting.cast_vote(
                    ballot, min(group), option(ballot, choice_of[d]), actor=None, now=DURING
                )

    result = tallying.compute_tally(ballot)
    assert result.total_voters == len(groups)
    assert result.total_area == sum(area_of.values())
    assert [(o.area, o.voters) for o in result.options] == [tuple(expected[p]) for p in (1, 2, 3)]
    voted_area = sum(v[0] for v in expected.values())
    voted = sum(v[1] for v in expected.values())
    quorum = Fraction(voted_area, result.total_area) >= Fraction(2, 3) and Fraction(
        voted, len(groups)
    ) >= Fraction(2, 3)
    passes = voted and (
        Fraction(expected[1][0], voted_area) > Fraction(1, 2)
        and Fraction(expected[1][1], voted) > Fraction(1, 2)
    )
    assert result.approved is bool(quorum and passes)
    assert tallying.verify_log(ballot).ok
