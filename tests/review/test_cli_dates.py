"""Item 12 (every date field has a sensible range with a message) and 11 (bounded ids),
through the CLI, which the README documents for street offices' scripts:

- `flask dues fee --start 0001-01-01` is accepted: every home then owes 24,000 months of
  property fee (¥774,791.57 for a 106 m² home); `--start 9999-12-31` is accepted too;
- `flask dues income --date 0001-01-01` is accepted (the web form refuses before 2000);
- `flask ballot create --opens 0001-01-01`, `flask ballot extend --closes 0001-01-01` and
  `flask ballot tally 99999999999999999999` end in a traceback (OverflowError).
"""

from datetime import date

import pytest

from app.accounts.models import Role
from app.dues import fees
from app.dues.models import DuesSettings, IncomeEntry
from app.extensions import db
from tests.decisions.conftest import open_ballot
from tests.fixtures.factories import make_user


def clean_refusal(result):
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


@pytest.mark.parametrize("start", ["0001-01-01", "9999-12-31"])
def test_the_fee_start_date_has_a_range(app, runner, estate, start):
    result = runner.invoke(args=["dues", "fee", "金源新村", "--rate", "0.30", "--start", start])
    clean_refusal(result)
    settings = db.session.get(DuesSettings, estate.compound.id)
    assert settings is None or settings.fee_starts_on != date.fromisoformat(start)


def test_the_income_date_has_a_range(app, runner, estate):
    make_user("13900000002", grants=[(Role.PROPERTY_MANAGER, estate.compound)])
    result = runner.invoke(
        args=[
            "dues",
            "income",
            "金源新村",
            "--kind",
            "parking",
            "--amount",
            "1",
            "--date",
            "0001-01-01",
            "--note",
            "x",
            "--by",
            "13900000002",
        ]
    )
    clean_refusal(result)
    assert db.session.scalar(db.select(db.func.count(IncomeEntry.id))) == 0


def test_ballot_dates_far_out_of_range_are_refused_with_a_message(app, runner, estate):
    result = runner.invoke(
        args=[
            "ballot",
            "create",
            "金源新村",
            "--kind",
            "general",
            "--title",
            "t",
            "--opens",
            "0001-01-01",
            "--closes",
            "0001-01-09",
        ]
    )
    clean_refusal(result)
    ballot = open_ballot(estate)
    result = runner.invoke(
        args=["ballot", "extend", str(ballot.id), "--closes", "0001-01-01", "--reason", "x"]
    )
    clean_refusal(result)


def test_a_20_digit_ballot_id_is_refused_with_a_message(app, runner):
    clean_refusal(runner.invoke(args=["ballot", "tally", "99999999999999999999"]))


def test_the_service_behind_the_cli_refuses_year_one(app, estate):
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do
        fees.set_property_fee(estate.compound, rate_yuan="0.30", starts_on=date(1, 1, 1))
