"""`flask dues fee | fund-import | income | arrears`: the happy path and each bad input."""

import io
import json
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from openpyxl import Workbook

from app.accounts.models import Role
from app.dues import payments, public_income
from app.dues.models import DuesSettings, FundAccount, IncomeEntry, IncomeKind
from app.extensions import db
from tests.fixtures.factories import make_compound, make_user


def invoke(runner, *args):
    result = runner.invoke(args=["dues", *args])
    db.session.expire_all()  # the command ran in its own app context
    return result


# --- fee ------------------------------------------------------------------------------------


def test_fee_sets_rate_and_start_keeps_or_clears_the_start(runner, estate):
    result = invoke(runner, "fee", "桂花苑", "--rate", "0.30", "--start", "2026-01-01")
    assert result.exit_code == 0, result.output
    assert "0.30 yuan per m² per month, from 2026-01-01" in result.output
    row = db.session.get(DuesSettings, estate.compound.id)
    assert (row.fee_rate_fen, row.fee_starts_on) == (Decimal("30"), date(2026, 1, 1))

    result = invoke(runner, "fee", str(estate.compound.id), "--rate", "0.3055")
    assert result.exit_code == 0, result.output
    row = db.session.get(DuesSettings, estate.compound.id)
    assert (row.fee_rate_fen, row.fee_starts_on) == (Decimal("30.55"), date(2026, 1, 1))

    result = invoke(runner, "fee", "桂花苑", "--rate", "0.30", "--start", "none")
    assert result.exit_code == 0 and "not billed" in result.output
    assert db.session.get(DuesSettings, estate.compound.id).fee_starts_on is None


def test_fee_bad_input_changes_nothing(runner, estate):
    for args, says in (
        (["桂花苑", "--rate", "abc"], "Write the rate"),
        (["桂花苑", "--rate", "-0.1"], "Write the rate"),
        (["桂花苑", "--rate", "0.30001"], "Write the rate"),
        (["桂花苑", "--rate", "0.30", "--start", "2026-13-01"], "not a date"),
        (["无此小区", "--rate", "0.30"], "No compound 无此小区"),
        (["桂花苑"], "--rate"),
    ):
        result = invoke(runner, "fee", *args)
        assert result.exit_code != 0 and says in result.output, (args, result.output)
    assert db.session.get(DuesSettings, estate.compound.id) is None


# --- fund-import ----------------------------------------------------------------------------


def test_fund_import_csv_with_header_then_again(runner, estate, tmp_path):
    file = tmp_path / "fund.csv"
    file.write_text(
        "楼栋,单元,房号,初始交存,当前余额\n1,1,601,7233.00,2000.00\n1,1,301,8888.00,8888.00\n",
        encoding="utf-8",
    )
    result = invoke(runner, "fund-import", "桂花苑", str(file))
    assert result.exit_code == 0, result.output
    assert "created 2, updated 0" in result.output
    balances = dict(
        db.session.execute(sa.select(FundAccount.dwelling_id, FundAccount.balance_fen)).all()
    )
    assert balances == {estate.home.id: 200_000, estate.other_home.id: 888_800}
    assert "created 0, updated 2" in invoke(runner, "fund-import", "桂花苑", str(file)).output


def test_fund_import_xlsx_with_english_headers(runner, estate, tmp_path):
    book = Workbook()
    book.active.append(["Building", "Unit", "Room", "Initial", "Balance"])
    book.active.append(["1幢", "1单元", "601", "7233", "7233"])
    buffer = io.BytesIO()
    book.save(buffer)
    file = tmp_path / "fund.xlsx"
    file.write_bytes(buffer.getvalue())
    result = invoke(runner, "fund-import", "桂花苑", str(file))
    assert result.exit_code == 0 and "created 1, updated 0" in result.output, result.output


def test_fund_import_without_the_headers_is_refused(runner, estate, tmp_path):
    file = tmp_path / "fund.csv"
    file.write_text("1,1,601,7233.00,2000.00\n", encoding="utf-8")
    result = invoke(runner, "fund-import", "桂花苑", str(file))
    assert result.exit_code != 0
    assert (
        "Required columns are missing: 楼栋 / building, 房号 / room, 初始交存 / initial, "
        "当前余额 / balance. Found: 1, 1, 601, 7233.00, 2000.00." in result.output
    )
    assert db.session.scalar(sa.select(sa.func.count(FundAccount.id))) == 0


def test_fund_import_bad_rows_are_listed_and_nothing_is_imported(runner, estate, tmp_path):
    file = tmp_path / "fund.csv"
    file.write_text(
        "楼栋,单元,房号,初始交存,当前余额\n1,1,601,7233.00,2000.00\n"
        "9,9,999,1,1\n1,1,301,12.345,abc\n",
        encoding="utf-8",
    )
    result = invoke(runner, "fund-import", "桂花苑", str(file))
    assert result.exit_code != 0
    assert "row 3: There is no home 9-9-999 in this compound." in result.stderr
    assert "row 4: “12.345” is not an amount in yuan." in result.stderr
    assert "row 4: “abc” is not an amount in yuan." in result.stderr
    assert "Nothing imported: 3 problems." in result.stderr
    assert db.session.scalar(sa.select(sa.func.count(FundAccount.id))) == 0


def test_fund_import_empty_file_missing_file_unknown_compound(runner, estate, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = invoke(runner, "fund-import", "桂花苑", str(empty))
    assert result.exit_code != 0 and "empty" in result.output
    assert invoke(runner, "fund-import", "桂花苑", str(tmp_path / "nope.csv")).exit_code != 0
    result = invoke(runner, "fund-import", "无此小区", str(empty))
    assert result.exit_code != 0 and "No compound" in result.output


# --- income ---------------------------------------------------------------------------------


def test_income_recorded_by_a_manager(runner, estate):
    result = invoke(
        runner,
        "income",
        "桂花苑",
        "--kind",
        "parking",
        "--amount",
        "1,200.5",
        "--date",
        "2026-10-31",
        "--note",
        "10月停车费",
        "--by",
        "139 0000 0002",
    )
    assert result.exit_code == 0, result.output
    assert "parking 1200.50 yuan on 2026-10-31" in result.output
    entry = db.session.scalar(sa.select(IncomeEntry))
    assert (entry.kind, entry.amount_fen, entry.occurred_on, entry.note, entry.recorded_by_id) == (
        IncomeKind.PARKING,
        120_050,
        date(2026, 10, 31),
        "10月停车费",
        estate.manager.id,
    )
    result = invoke(
        runner,
        "income",
        "桂花苑",
        "--kind",
        "cost",
        "--amount",
        "80",
        "--date",
        "2026-10-31",
        "--by",
        "13900000002",
    )
    assert result.exit_code == 0, result.output
    assert public_income.income_balance(estate.compound.id).net_fen == 120_050 - 8_000


def test_income_bad_input_records_nothing(runner, estate):
    make_user("13900000009")  # an account with no role here
    ok = {"--kind": "ads", "--amount": "100", "--date": "2026-10-31", "--by": "13900000002"}
    cases = [
        ({"--amount": "12.345"}, "at most two decimals"),
        ({"--amount": "-5"}, "cannot be negative"),
        ({"--amount": "abc"}, "is not an amount in yuan"),
        ({"--amount": "0"}, "more than zero"),
        ({"--amount": "99999999999"}, "far too large"),
        ({"--date": "31/10/2026"}, "not a date"),
        ({"--date": "2999-01-01"}, "cannot be in the future"),
        ({"--kind": "lottery"}, "Invalid value for '--kind'"),
        ({"--note": "长" * 201}, "at most 200 characters"),
        ({"--by": "13911112222"}, "no account with phone"),
        ({"--by": "not-a-phone"}, "no account with phone"),
        ({"--by": "13900000001"}, "not a property manager"),  # committee
        ({"--by": "13800000001"}, "not a property manager"),  # a resident
        ({"--by": "13900000009"}, "not a property manager"),
    ]
    for change, says in cases:
        args = [part for key, value in {**ok, **change}.items() for part in (key, value)]
        result = invoke(runner, "income", "桂花苑", *args)
        assert result.exit_code != 0 and says in result.output, (change, result.output)
    result = invoke(runner, "income", "无此小区", *[p for kv in ok.items() for p in kv])
    assert result.exit_code != 0 and "No compound" in result.output
    assert db.session.scalar(sa.select(sa.func.count(IncomeEntry.id))) == 0


def test_income_by_a_manager_of_another_compound_is_refused(runner, estate):
    other = make_compound("金源新村")
    make_user("13900000008", grants=[(Role.PROPERTY_MANAGER, other)])
    result = invoke(
        runner,
        "income",
        "桂花苑",
        "--kind",
        "ads",
        "--amount",
        "100",
        "--date",
        "2026-10-31",
        "--by",
        "13900000008",
    )
    assert (
        result.exit_code != 0
        and "not a property manager or street admin of 桂花苑" in result.output
    )


# --- arrears --------------------------------------------------------------------------------


def test_arrears_json_in_fen_and_as_a_table(runner, estate):
    # Elevator: ¥600,000 less ¥200,000 subsidy over building 1 unit 1; windows: ¥12,000 over
    # 1-1-601, 1-1-301 and 2-1-101 (¥4,000 each). No property fee is set.
    from app.dues.models import Channel

    payments.grant_hardship(
        estate.home, estate.committee, key=estate.windows.id, amount_fen=100_000, note="低保户"
    )
    payments.record_payment(
        estate.owner,
        estate.home,
        key=estate.windows.id,
        channel=Channel.DIRECT,
        amount_fen=50_000,
        reference="转账",
        photo=None,
        token="",
        upload_dir=None,
    )  # awaits confirmation
    result = invoke(runner, "arrears", "桂花苑", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["buildings"]
    assert rows == [
        {
            "building": "1",
            "homes": 6,
            "homes_in_arrears": 4,
            "share_fen": 40_800_000,
            "paid_fen": 100_000,
            "outstanding_fen": 40_700_000,
            "pending_fen": 50_000,
            "to_pay_fen": 40_650_000,
        },
        {
            "building": "2",
            "homes": 1,
            "homes_in_arrears": 1,
            "share_fen": 400_000,
            "paid_fen": 0,
            "outstanding_fen": 400_000,
            "pending_fen": 0,
            "to_pay_fen": 400_000,
        },
    ]
    table = invoke(runner, "arrears", "桂花苑")
    assert table.exit_code == 0
    assert "1\t6\t4\t408000.00\t1000.00\t407000.00\t500.00\t406500.00" in table.output
    result = invoke(runner, "arrears", "无此小区", "--json")
    assert result.exit_code != 0 and "No compound" in result.output
