"""Roster rules (DESIGN §2): reading, checking and writing a committee's roster file.

Pure tests of app.community.roster: no Flask app, no database.
"""

from __future__ import annotations

import dataclasses
import io
import random
import zipfile
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from app.community.roster import (
    COLUMNS,
    RosterFileError,
    RosterRow,
    header_row,
    natural_key,
    normalize_building,
    normalize_unit,
    parse_roster,
    read_table,
    write_csv,
    write_xlsx,
)

ZH = "楼栋,单元,房号,楼层,专有面积,业主姓名,业主手机,产权人编号,业主类型,出生年份"
EN = "building,unit,room,floor,area_m2,owner_name,owner_phone,owner_ref,owner_type,birth_year"
GOOD = "3,2,101,1,65.50,张三,13812345678,,,1950"

EXPECTED_GOOD = RosterRow(
    row=2,
    building="3",
    unit="2",
    room="101",
    floor=1,
    area_m2=Decimal("65.50"),
    owner_name="张三",
    owner_phone="13812345678",
    owner_ref=None,
    owner_type="person",
    birth_year=1950,
    tenant_name=None,
    tenant_phone=None,
)


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def parse_ok(data: bytes, filename: str = "") -> list[RosterRow]:
    result = parse_roster(data, filename)
    assert result.problems == []
    assert result.ok
    return result.rows


def where(data: bytes) -> list[tuple[int, str]]:
    """(row, column) of every problem, in report order."""
    return [(p.row, p.column) for p in parse_roster(data).problems]


def file_error(data: bytes, filename: str = "") -> RosterFileError:
    with pytest.raises(RosterFileError) as info:
        parse_roster(data, filename)
    assert info.value.message
    return info.value


def without_row_number(row: RosterRow) -> RosterRow:
    return dataclasses.replace(row, row=0)


def record_of(row: RosterRow) -> list:
    """The export record of a row, in COLUMNS order (as roster_files.roster_records builds it)."""
    return [
        row.building,
        row.unit,
        row.room,
        row.floor,
        f"{row.area_m2:.2f}",
        row.owner_name,
        row.owner_phone,
        row.owner_ref,
        row.owner_type,
        row.birth_year,
        row.tenant_name,
        row.tenant_phone,
    ]


# --- headers and CSV dialects ------------------------------------------------------------


def test_chinese_headers():
    assert parse_ok(csv_bytes(ZH, GOOD)) == [EXPECTED_GOOD]


def test_english_headers_give_the_same_rows():
    assert parse_ok(csv_bytes(EN, GOOD)) == [EXPECTED_GOOD]


def test_english_headers_are_case_insensitive_and_trimmed():
    header = (
        " Building , UNIT,Room,Floor,Area_M2,Owner_Name,owner_phone,owner_ref,owner_type,birth_year"
    )
    assert parse_ok(csv_bytes(header, GOOD)) == [EXPECTED_GOOD]


def test_chinese_and_english_headers_may_be_mixed_in_any_order():
    header = "业主姓名,room,楼栋,floor,专有面积,unit,业主手机,出生年份"
    line = "张三,101,3,1,65.50,2,13812345678,1950"
    assert parse_ok(csv_bytes(header, line)) == [EXPECTED_GOOD]


def test_short_header_aliases():
    header = "楼栋,单元,房号,楼层,面积,姓名,手机,出生年份"
    assert parse_ok(csv_bytes(header, "3,2,101,1,65.50,张三,13812345678,1950")) == [EXPECTED_GOOD]


def test_header_with_utf8_bom():
    data = b"\xef\xbb\xbf" + csv_bytes(ZH, GOOD)
    assert parse_ok(data) == [EXPECTED_GOOD]


def test_header_with_bom_in_an_xlsx_cell():
    rows = [
        ["\ufeff楼栋", "单元", "房号", "楼层", "专有面积", "业主姓名", "业主手机", "出生年份"],
        ["3", "2", "101", "1", "65.50", "张三", "13812345678", "1950"],
    ]
    assert parse_ok(xlsx_bytes(rows)) == [EXPECTED_GOOD]


def test_tab_separated_csv():
    data = csv_bytes(ZH.replace(",", "\t"), GOOD.replace(",", "\t"))
    assert parse_ok(data) == [EXPECTED_GOOD]


def test_crlf_line_endings():
    data = (ZH + "\r\n" + GOOD + "\r\n").encode()
    assert parse_ok(data) == [EXPECTED_GOOD]


def test_leading_blank_lines_are_skipped():
    data = csv_bytes("", ",,,,", "   ", ZH, GOOD)
    rows = parse_ok(data)
    assert [without_row_number(r) for r in rows] == [without_row_number(EXPECTED_GOOD)]


def test_blank_rows_between_data_rows_are_skipped_but_keep_numbering():
    data = csv_bytes(ZH, GOOD, "", ",,,,,,,,,", "3,2,102,1,0,李四,,,,")
    result = parse_roster(data)
    assert [r.row for r in result.rows] == [2]
    assert [(p.row, p.column) for p in result.problems] == [(5, "area_m2")]


def test_unknown_columns_are_listed_as_ignored():
    data = csv_bytes(ZH + ",备注,,", GOOD + ",老住户,,")
    result = parse_roster(data)
    assert result.ok
    assert result.ignored_columns == ["备注"]
    assert result.has_tenant_columns is False
    assert result.rows == [EXPECTED_GOOD]


def test_tenant_columns_are_detected():
    data = csv_bytes(ZH + ",租户姓名,租户手机", GOOD + ",王五,13912345678")
    result = parse_roster(data)
    assert result.ok
    assert result.has_tenant_columns is True
    assert result.rows == [
        dataclasses.replace(EXPECTED_GOOD, tenant_name="王五", tenant_phone="13912345678")
    ]
    assert result.rows[0].tenant_key == "tenant:13912345678"


def test_only_required_columns():
    data = csv_bytes("楼栋,房号,楼层,专有面积,业主姓名", "3,101,1,65.5,张三")
    assert parse_ok(data) == [
        RosterRow(
            row=2,
            building="3",
            unit="",
            room="101",
            floor=1,
            area_m2=Decimal("65.5"),
            owner_name="张三",
            owner_phone=None,
            owner_ref=None,
            owner_type="person",
            birth_year=None,
        )
    ]


def test_quoted_fields_with_commas():
    data = csv_bytes(EN, '3,2,101,1,"1,234.50","Smith, John",,,,')
    (row,) = parse_ok(data)
    assert row.owner_name == "Smith, John"
    assert row.area_m2 == Decimal("1234.50")


# --- encodings ---------------------------------------------------------------------------


def test_gbk_csv_parses_like_utf8():
    lines = (
        ZH + ",租户姓名",
        "3幢,2单元,101,1,65.50,张三,13812345678,,个人,1950,",
        "3幢,2单元,102,1,88.00,鑫源房地产开发有限公司,,,开发商,,",
        "5号楼,,201,2,70.25,市房管局,,GF-001,公房产权单位,,赵六",
    )
    utf8 = parse_roster(csv_bytes(*lines))
    gbk = parse_roster(csv_bytes(*lines, encoding="gbk"))
    assert utf8.ok and gbk.ok
    assert gbk.rows == utf8.rows
    assert [r.owner_name for r in gbk.rows] == ["张三", "鑫源房地产开发有限公司", "市房管局"]
    assert [r.address for r in gbk.rows] == [("3", "2", "101"), ("3", "2", "102"), ("5", "", "201")]
    assert [r.owner_type for r in gbk.rows] == ["person", "developer", "institution"]


def test_gbk_header_is_recognised():
    assert csv_bytes(ZH, GOOD, encoding="gbk") != csv_bytes(ZH, GOOD)
    assert parse_ok(csv_bytes(ZH, GOOD, encoding="gbk")) == [EXPECTED_GOOD]


def test_read_table_returns_stripped_cell_texts():
    assert read_table(csv_bytes("a , b", " 1,2 ")) == [["a", "b"], ["1", "2"]]


# --- XLSX --------------------------------------------------------------------------------

XLSX_HEADER = ["楼栋", "单元", "房号", "楼层", "专有面积", "业主姓名", "业主手机", "出生年份"]


@pytest.mark.parametrize("phone", [13812345678, 13812345678.0, "13812345678"])
def test_xlsx_numeric_cells_as_excel_stores_them(phone):
    data = xlsx_bytes([XLSX_HEADER, [3, 2, 101, 1, 65.5, "张三", phone, 1950]])
    (row,) = parse_ok(data)
    assert row.room == "101"
    assert row.building == "3"
    assert row.unit == "2"
    assert row.floor == 1
    assert isinstance(row.area_m2, Decimal)
    assert row.area_m2 == Decimal("65.5") == Decimal("65.50")
    assert row.owner_phone == "13812345678"
    assert row.birth_year == 1950
    assert row == EXPECTED_GOOD


def test_xlsx_float_integers_become_whole_numbers():
    data = xlsx_bytes([XLSX_HEADER, [3.0, 2.0, 101.0, 7.0, 80.0, "李四", 13912345678.0, 1948.0]])
    (row,) = parse_ok(data)
    assert (row.building, row.unit, row.room, row.floor) == ("3", "2", "101", 7)
    assert row.area_m2 == Decimal("80")
    assert row.owner_phone == "13912345678"
    assert row.birth_year == 1948


def test_xlsx_empty_cells_and_short_rows():
    data = xlsx_bytes([XLSX_HEADER, ["3幢", None, "101", 1, 65.5, "张三"]])
    (row,) = parse_ok(data)
    assert row.unit == ""
    assert row.owner_phone is None
    assert row.birth_year is None


def test_xlsx_is_detected_by_magic_bytes_without_a_filename():
    data = xlsx_bytes([XLSX_HEADER, [3, 2, 101, 1, 65.5, "张三", 13812345678, 1950]])
    assert parse_ok(data, "") == parse_ok(data, "roster.XLSX") == [EXPECTED_GOOD]


def test_xlsx_rows_are_reported_with_their_sheet_row_number():
    data = xlsx_bytes([XLSX_HEADER, [3, 2, 101, 1, 65.5, "张三"], [3, 2, 102, 0, 65.5, "李四"]])
    assert where(data) == [(3, "floor")]


# --- whole-file errors -------------------------------------------------------------------


def test_empty_file():
    assert file_error(b"").message == "The file is empty."


def test_blank_lines_only():
    assert file_error(b"\n\n,,,\n").message == "The file is empty."


def test_header_without_rows():
    assert file_error(csv_bytes(ZH, "", ",,,")).message == "The file has a header but no rows."


def test_old_xls_magic_bytes():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    error = file_error(data, "roster.xls")
    assert ".xls" in error.message
    assert file_error(data).message == error.message


def test_xls_extension_is_refused_whatever_the_content():
    assert ".xls" in file_error(csv_bytes(ZH, GOOD), "roster.xls").message


@pytest.mark.parametrize("seed", [1, 2, 20240501])
def test_random_binary(seed):
    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(2048))
    assert file_error(data).message == "The file is not UTF-8 or GBK text."
    assert file_error(data, "roster.csv").message == "The file is not UTF-8 or GBK text."


def test_text_with_nul_bytes():
    assert file_error(b"abc\x00def\n").message == "This is not a CSV or XLSX file."


@pytest.mark.parametrize("filename", ["", "roster.xlsx"])
def test_broken_zip_claiming_to_be_xlsx(filename):
    assert (
        file_error(b"PK\x03\x04garbage", filename).message == "The XLSX file could not be opened."
    )


def test_zip_that_is_not_a_workbook():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert file_error(out.getvalue()).message == "The XLSX file could not be opened."


def test_csv_named_xlsx_is_refused():
    assert file_error(csv_bytes(ZH, GOOD), "roster.xlsx").message == (
        "The XLSX file could not be opened."
    )


def test_missing_required_columns_are_named():
    error = file_error(csv_bytes("楼栋,单元,楼层,业主姓名,备注", "3,2,1,张三,x"))
    assert error.message.startswith("Required columns are missing")
    assert error.params["missing"] == "房号 / room, 专有面积 / area_m2"
    assert error.params["found"] == "楼栋, 单元, 楼层, 业主姓名, 备注"


def test_missing_columns_in_an_unrelated_file():
    error = file_error(csv_bytes("name,age", "张三,40"))
    assert error.params["missing"] == (
        "楼栋 / building, 房号 / room, 楼层 / floor, 专有面积 / area_m2, 业主姓名 / owner_name"
    )


@pytest.mark.parametrize(
    "header, twice",
    [
        ("楼栋,building,房号,楼层,专有面积,业主姓名", "building"),
        ("楼栋,房号,楼层,面积,专有面积,业主姓名", "专有面积"),
        ("楼栋,房号,楼层,专有面积,业主姓名,业主姓名", "业主姓名"),
    ],
)
def test_duplicated_column(header, twice):
    error = file_error(csv_bytes(header, "3,101,1,65.5,张三,张三"))
    assert error.message == "The column %(column)s appears twice."
    assert error.params == {"column": twice}


# --- row problems ------------------------------------------------------------------------

FULL = ZH + ",租户姓名,租户手机"
BASE = {
    "building": "3",
    "unit": "2",
    "room": "101",
    "floor": "1",
    "area_m2": "65.50",
    "owner_name": "张三",
    "owner_phone": "13812345678",
    "owner_ref": "",
    "owner_type": "",
    "birth_year": "1950",
    "tenant_name": "",
    "tenant_phone": "",
}
assert list(BASE) == list(COLUMNS)


def line(**changes: str) -> str:
    """One CSV line under the FULL header: the good row with some cells changed."""
    values = {**BASE, **changes}
    return ",".join(values[key] for key in COLUMNS)


@pytest.mark.parametrize(
    "changes, column, message, value",
    [
        ({"area_m2": "-5"}, "area_m2", "area must be greater than 0", "-5"),
        ({"area_m2": "0"}, "area_m2", "area must be greater than 0", "0"),
        ({"area_m2": "0.00"}, "area_m2", "area must be greater than 0", "0.00"),
        ({"area_m2": "10000"}, "area_m2", "area must be greater than 0", "10000"),
        ({"area_m2": "abc"}, "area_m2", "area must be a number", "abc"),
        ({"area_m2": ""}, "area_m2", "area must be a number", ""),
        ({"area_m2": "65.5m²"}, "area_m2", "area must be a number", "65.5m²"),
        ({"area_m2": "NaN"}, "area_m2", "area must be a number", "NaN"),
        ({"area_m2": "Infinity"}, "area_m2", "area must be a number", "Infinity"),
        ({"area_m2": "65.555"}, "area_m2", "area has more than two decimals", "65.555"),
        ({"area_m2": "0.001"}, "area_m2", "area has more than two decimals", "0.001"),
        ({"floor": "0"}, "floor", "floor must be a whole number", "0"),
        ({"floor": "-1"}, "floor", "floor must be a whole number", "-1"),
        ({"floor": "abc"}, "floor", "floor must be a whole number", "abc"),
        ({"floor": "1.5"}, "floor", "floor must be a whole number", "1.5"),
        ({"floor": ""}, "floor", "floor must be a whole number", ""),
        ({"floor": "201"}, "floor", "floor must be a whole number", "201"),
        ({"owner_phone": "1381234567"}, "owner_phone", "phone must be an 11-digit", "1381234567"),
        (
            {"owner_phone": "138123456789"},
            "owner_phone",
            "phone must be an 11-digit",
            "138123456789",
        ),
        ({"owner_phone": "1381234567a"}, "owner_phone", "phone must be an 11-digit", "1381234567a"),
        (
            {"owner_phone": "010-12345678"},
            "owner_phone",
            "phone must be an 11-digit",
            "010-12345678",
        ),
        ({"owner_phone": "12812345678"}, "owner_phone", "phone must be an 11-digit", "12812345678"),
        ({"owner_phone": "1.38123E+10"}, "owner_phone", "phone must be an 11-digit", "1.38123E+10"),
        ({"owner_type": "tenant"}, "owner_type", "owner type must be", "tenant"),
        ({"owner_type": "租户"}, "owner_type", "owner type must be", "租户"),
        ({"birth_year": "1850"}, "birth_year", "birth year must be a year", "1850"),
        ({"birth_year": "2101"}, "birth_year", "birth year must be a year", "2101"),
        ({"birth_year": "abc"}, "birth_year", "birth year must be a year", "abc"),
        ({"birth_year": "1950.5"}, "birth_year", "birth year must be a year", "1950.5"),
        (
            {"tenant_phone": "13912345678"},
            "tenant_name",
            "a tenant phone needs a tenant name",
            None,
        ),
        (
            {"tenant_name": "王五", "tenant_phone": "12345"},
            "tenant_phone",
            "phone must be an 11-digit",
            "12345",
        ),
        ({"building": ""}, "building", "building is empty", None),
        ({"building": "B" * 21}, "building", "building is too long", None),
        ({"unit": "U" * 21}, "unit", "unit is too long", None),
        ({"room": ""}, "room", "room is empty", None),
        ({"room": "R" * 21}, "room", "room is too long", None),
        ({"owner_name": ""}, "owner_name", "owner name is empty", None),
        ({"owner_name": "名" * 101}, "owner_name", "owner name is too long", None),
        ({"owner_ref": "R" * 61}, "owner_ref", "owner_ref is too long", None),
        ({"tenant_name": "租" * 101}, "tenant_name", "tenant name is too long", None),
    ],
)
def test_row_problem_reports_row_and_column(changes, column, message, value):
    data = csv_bytes(FULL, line(), line(**{"room": "102", **changes}))
    result = parse_roster(data)
    assert not result.ok
    assert [r.row for r in result.rows] == [2]
    assert len(result.problems) == 1
    (problem,) = result.problems
    assert (problem.row, problem.column) == (3, column)
    assert problem.message.startswith(message)
    if value is not None:
        assert problem.params == {"value": value}


@pytest.mark.parametrize(
    "changes, area",
    [
        ({"area_m2": "65"}, Decimal("65")),
        ({"area_m2": "65.5"}, Decimal("65.50")),
        ({"area_m2": "0.01"}, Decimal("0.01")),
        ({"area_m2": "9999.99"}, Decimal("9999.99")),
        ({"area_m2": "65.500"}, Decimal("65.5")),  # numerically two decimals
        ({"area_m2": '"1,234.56"'}, Decimal("1234.56")),
        ({"area_m2": " 65.50 "}, Decimal("65.50")),
    ],
)
def test_valid_areas(changes, area):
    (row,) = parse_ok(csv_bytes(FULL, line(**changes)))
    assert row.area_m2 == area


@pytest.mark.parametrize("floor", ["1", "200", " 7 ", "+3"])
def test_valid_floors(floor):
    (row,) = parse_ok(csv_bytes(FULL, line(floor=floor)))
    assert row.floor == int(floor)


@pytest.mark.parametrize("year", ["1900", "1950", "2100"])
def test_valid_birth_years(year):
    (row,) = parse_ok(csv_bytes(FULL, line(birth_year=year)))
    assert row.birth_year == int(year)


def test_tenant_without_phone_is_fine():
    (row,) = parse_ok(csv_bytes(FULL, line(tenant_name="王五")))
    assert (row.tenant_name, row.tenant_phone) == ("王五", None)
    assert row.tenant_key == 'tenant-row:["3", "2", "101"]'


def test_one_row_with_several_problems_reports_each():
    data = csv_bytes(FULL, line(floor="abc", area_m2="-1", owner_phone="123", birth_year="x"))
    assert where(data) == [(2, "floor"), (2, "area_m2"), (2, "owner_phone"), (2, "birth_year")]


def test_every_bad_row_is_reported_not_just_the_first():
    data = csv_bytes(
        FULL,
        line(room="101", area_m2="-1"),
        line(room="102"),
        line(room="103", floor="0", owner_phone="138"),
        line(room="104", owner_type="boss"),
        line(room="102"),
        line(room="105", area_m2="1.234"),
    )
    result = parse_roster(data)
    assert not result.ok
    assert [(p.row, p.column) for p in result.problems] == [
        (2, "area_m2"),
        (4, "floor"),
        (4, "owner_phone"),
        (5, "owner_type"),
        (6, "room"),
        (7, "area_m2"),
    ]
    assert [r.row for r in result.rows] == [3]


def test_duplicate_room_in_same_building_and_unit():
    data = csv_bytes(
        FULL,
        line(room="101"),
        line(room="102"),
        line(room="101", owner_name="李四", owner_phone=""),
    )
    result = parse_roster(data)
    (problem,) = result.problems
    assert (problem.row, problem.column) == (4, "room")
    assert problem.message.startswith("room %(room)s in building %(building)s appears again")
    assert problem.params == {"room": "101", "building": "3", "first": 2}
    assert [r.row for r in result.rows] == [2, 3]


def test_duplicate_room_is_found_after_normalising_building_and_unit():
    data = csv_bytes(FULL, line(building="3幢", unit="2单元"), line(building="3", unit="2"))
    (problem,) = parse_roster(data).problems
    assert (problem.row, problem.column) == (3, "room")
    assert problem.params["first"] == 2


def test_same_room_in_other_unit_or_building_is_fine():
    data = csv_bytes(
        FULL,
        line(building="3", unit="2", room="101"),
        line(building="3", unit="1", room="101"),
        line(building="3", unit="", room="101"),
        line(building="4", unit="2", room="101"),
    )
    rows = parse_ok(data)
    assert [r.address for r in rows] == [
        ("3", "2", "101"),
        ("3", "1", "101"),
        ("3", "", "101"),
        ("4", "2", "101"),
    ]
    assert len({r.owner_key for r in rows}) == 1  # one owner, four dwellings


# --- phones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "+86 138 1234 5678",
        "138-1234-5678",
        "13812345678.0",
        "0086 13812345678",
        "+8613812345678",
        "138 1234 5678",
        "(138)12345678",
    ],
)
def test_phone_normalisation(raw):
    (row,) = parse_ok(csv_bytes(FULL, line(owner_phone=raw)))
    assert row.owner_phone == "13812345678"
    assert row.owner_key == "phone:13812345678"


def test_quoted_phone_with_spaces_in_csv():
    (row,) = parse_ok(csv_bytes(FULL, line(owner_phone='"+86 138 1234 5678"')))
    assert row.owner_phone == "13812345678"


def test_empty_phone_is_allowed():
    (row,) = parse_ok(csv_bytes(FULL, line(owner_phone="")))
    assert row.owner_phone is None
    assert row.owner_key == 'row:["3", "2", "101"]'


def test_tenant_phone_is_normalised_too():
    (row,) = parse_ok(csv_bytes(FULL, line(tenant_name="王五", tenant_phone="+86 139-1234-5678")))
    assert row.tenant_phone == "13912345678"
    assert row.tenant_key == "tenant:13912345678"


# --- buildings, units, sorting -----------------------------------------------------------


@pytest.mark.parametrize(
    "raw, name",
    [
        ("3", "3"),
        ("3幢", "3"),
        ("3栋", "3"),
        ("3号楼", "3"),
        ("3号", "3"),
        ("3楼", "3"),
        (" 3 幢 ", "3"),
        ("A座", "A座"),
        ("12", "12"),
        ("号楼", "号楼"),
    ],
)
def test_normalize_building(raw, name):
    assert normalize_building(raw) == name


@pytest.mark.parametrize(
    "raw, name", [("2单元", "2"), ("2", "2"), ("", ""), (" 2 单元 ", "2"), ("东", "东")]
)
def test_normalize_unit(raw, name):
    assert normalize_unit(raw) == name


@pytest.mark.parametrize("building", ["3幢", "3栋", "3号楼"])
def test_building_suffixes_in_a_file(building):
    (row,) = parse_ok(csv_bytes(FULL, line(building=building, unit="2单元")))
    assert row.address == ("3", "2", "101")


def test_empty_unit_in_a_file():
    (row,) = parse_ok(csv_bytes(FULL, line(unit="")))
    assert row.unit == ""


def test_natural_key_sorts_numbers_by_value():
    names = ["10", "2", "1", "2-10", "2-9", "B1", "A12", "A2"]
    assert sorted(names, key=natural_key) == ["1", "2", "2-9", "2-10", "10", "A2", "A12", "B1"]
    assert natural_key("3") == "000003"
    assert len(natural_key("1-2-3-4-5-6-7-8-9")) == 40


# --- owner types -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, owner_type",
    [
        ("", "person"),
        ("person", "person"),
        ("个人", "person"),
        ("Person", "person"),
        ("institution", "institution"),
        ("单位", "institution"),
        ("公房产权单位", "institution"),
        ("INSTITUTION", "institution"),
        ("developer", "developer"),
        ("开发商", "developer"),
        ("开发单位", "developer"),
    ],
)
def test_owner_type_aliases(raw, owner_type):
    (row,) = parse_ok(csv_bytes(FULL, line(owner_type=raw)))
    assert row.owner_type == owner_type


def test_owner_type_defaults_to_person_without_the_column():
    (row,) = parse_ok(csv_bytes("楼栋,房号,楼层,专有面积,业主姓名", "3,101,1,65.5,张三"))
    assert row.owner_type == "person"


# --- owner identity ----------------------------------------------------------------------


def make_row(**changes) -> RosterRow:
    return dataclasses.replace(EXPECTED_GOOD, **changes)


def test_owner_key_ref_wins_over_phone():
    assert make_row(owner_ref="CQ-0001").owner_key == "ref:CQ-0001"


def test_owner_key_phone():
    assert make_row().owner_key == "phone:13812345678"


def test_owner_key_developer_is_one_per_developer():
    a = make_row(owner_type="developer", owner_name="鑫源地产", owner_phone="13812345678")
    b = make_row(owner_type="developer", owner_name="鑫源地产", owner_phone=None, room="102")
    c = make_row(owner_type="developer", owner_name="另一开发商", owner_phone=None, room="103")
    d = make_row(owner_type="developer", owner_name="鑫源地产", owner_ref="DEV-1")
    assert a.owner_key == b.owner_key == "developer:鑫源地产"
    assert c.owner_key == "developer:另一开发商"
    assert d.owner_key == "developer:DEV-1"


def test_owner_key_without_ref_or_phone_is_per_row():
    a = make_row(owner_phone=None)
    b = make_row(owner_phone=None, room="102")
    c = make_row(owner_phone=None, unit="", room="102")
    assert a.owner_key == 'row:["3", "2", "101"]'
    assert b.owner_key == 'row:["3", "2", "102"]'
    assert c.owner_key == 'row:["3", "", "102"]'
    assert len({a.owner_key, b.owner_key, c.owner_key}) == 3


def test_tenant_key():
    assert make_row().tenant_key is None
    assert make_row(tenant_name="王五", tenant_phone="13912345678").tenant_key == (
        "tenant:13912345678"
    )


def test_same_phone_same_name_on_two_rooms_is_one_owner():
    rows = parse_ok(csv_bytes(FULL, line(room="101"), line(room="102"), line(building="5")))
    assert len(rows) == 3
    assert {r.owner_key for r in rows} == {"phone:13812345678"}


def test_same_phone_different_name_is_a_problem_on_the_later_row():
    data = csv_bytes(
        FULL,
        line(room="101"),
        line(room="102", owner_phone=""),
        line(room="103", owner_name="李四"),
    )
    result = parse_roster(data)
    (problem,) = result.problems
    assert (problem.row, problem.column) == (4, "owner_name")
    assert problem.params == {"key": "13812345678", "first_name": "张三", "first": 2}
    assert "owner_ref" in problem.message
    assert [r.row for r in result.rows] == [2, 3]


def test_same_phone_different_owner_type_is_a_problem():
    data = csv_bytes(FULL, line(room="101"), line(room="102", owner_type="institution"))
    assert where(data) == [(3, "owner_name")]


def test_owner_ref_tells_owners_sharing_a_phone_apart():
    data = csv_bytes(
        FULL, line(room="101", owner_ref="A"), line(room="102", owner_ref="B", owner_name="李四")
    )
    rows = parse_ok(data)
    assert [r.owner_key for r in rows] == ["ref:A", "ref:B"]


def test_same_ref_is_one_owner_even_with_other_phones():
    data = csv_bytes(
        FULL,
        line(room="101", owner_ref="CQ-1"),
        line(room="102", owner_ref="CQ-1", owner_phone="13912345678"),
    )
    rows = parse_ok(data)
    assert {r.owner_key for r in rows} == {"ref:CQ-1"}


def test_same_ref_different_name_is_a_problem():
    data = csv_bytes(
        FULL,
        line(room="101", owner_ref="CQ-1"),
        line(room="102", owner_ref="CQ-1", owner_name="李四"),
    )
    (problem,) = parse_roster(data).problems
    assert (problem.row, problem.column) == (3, "owner_name")
    assert problem.params == {"key": "CQ-1", "first_name": "张三", "first": 2}


def test_developer_rows_share_one_owner():
    data = csv_bytes(
        FULL,
        *(
            line(
                room=str(r),
                owner_name="鑫源地产",
                owner_phone="",
                owner_type="开发商",
                birth_year="",
            )
            for r in (101, 102, 201)
        ),
    )
    rows = parse_ok(data)
    assert {r.owner_key for r in rows} == {"developer:鑫源地产"}


def test_rows_without_ref_or_phone_are_separate_owners_even_with_the_same_name():
    data = csv_bytes(FULL, line(room="101", owner_phone=""), line(room="102", owner_phone=""))
    rows = parse_ok(data)
    assert [r.owner_key for r in rows] == ['row:["3", "2", "101"]', 'row:["3", "2", "102"]']


# --- writing and round trips -------------------------------------------------------------

SAMPLE_ROWS = [
    RosterRow(
        row=2,
        building="3",
        unit="2",
        room="101",
        floor=1,
        area_m2=Decimal("65.50"),
        owner_name="张三",
        owner_phone="13812345678",
        owner_ref=None,
        owner_type="person",
        birth_year=1950,
    ),
    RosterRow(
        row=3,
        building="3",
        unit="2",
        room="0102",
        floor=1,
        area_m2=Decimal("88.00"),
        owner_name="张三",
        owner_phone="13812345678",
        owner_ref=None,
        owner_type="person",
        birth_year=1950,
        tenant_name="王五",
        tenant_phone="13912345678",
    ),
    RosterRow(
        row=4,
        building="10",
        unit="",
        room="A-201",
        floor=2,
        area_m2=Decimal("9999.99"),
        owner_name='Smith, John "Jr"',
        owner_phone=None,
        owner_ref="CQ-7",
        owner_type="person",
        birth_year=None,
        tenant_name="李四",
        tenant_phone=None,
    ),
    RosterRow(
        row=5,
        building="12",
        unit="1",
        room="301",
        floor=30,
        area_m2=Decimal("0.01"),
        owner_name="市房管局",
        owner_phone=None,
        owner_ref=None,
        owner_type="institution",
        birth_year=None,
    ),
    RosterRow(
        row=6,
        building="12",
        unit="1",
        room="302",
        floor=3,
        area_m2=Decimal("120.25"),
        owner_name="鑫源房地产开发有限公司",
        owner_phone="13700000000",
        owner_ref=None,
        owner_type="developer",
        birth_year=None,
    ),
]


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize(
    "writer, filename", [(write_csv, "roster.csv"), (write_xlsx, "roster.xlsx")]
)
def test_round_trip(writer, filename, language):
    data = writer([record_of(r) for r in SAMPLE_ROWS], language)
    result = parse_roster(data, filename)
    assert result.ok
    assert result.rows == SAMPLE_ROWS
    assert result.has_tenant_columns
    assert result.ignored_columns == []
    assert [r.area_m2.as_tuple().exponent for r in result.rows] == [-2] * len(SAMPLE_ROWS)


@pytest.mark.parametrize("writer", [write_csv, write_xlsx])
def test_round_trip_is_stable(writer):
    first = parse_roster(writer([record_of(r) for r in SAMPLE_ROWS])).rows
    second = parse_roster(writer([record_of(r) for r in first], "en")).rows
    assert second == first == SAMPLE_ROWS


def test_header_row():
    assert header_row() == header_row("zh") == [zh for zh, _ in COLUMNS.values()]
    assert header_row("en") == list(COLUMNS)
    assert header_row("zh")[:3] == ["楼栋", "单元", "房号"]


def test_write_csv_is_utf8_with_bom_and_blank_nones():
    data = write_csv([["3", "", "101", 1, "65.50", "张三", None, None, "person", None, None, None]])
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines() == [
        "楼栋,单元,房号,楼层,专有面积,业主姓名,业主手机,产权人编号,业主类型,出生年份,租户姓名,租户手机",
        "3,,101,1,65.50,张三,,,person,,,",
    ]


def test_write_xlsx_stores_every_cell_as_text():
    data = write_xlsx([record_of(SAMPLE_ROWS[0])], "en")
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == list(COLUMNS)
    # None is written as an empty string, which openpyxl reads back as an empty cell
    assert values[1] == [
        "3",
        "2",
        "101",
        "1",
        "65.50",
        "张三",
        "13812345678",
        None,
        "person",
        "1950",
        None,
        None,
    ]
    assert all(c.data_type == "s" for c in sheet[2] if c.value)


# --- property: any valid roster survives write_csv -> parse_roster ------------------------

PHONE_POOL = {
    "13800000001": ("张三", "person"),
    "13900000002": ("李四", "person"),
    "15000000003": ("王五, 先生", "person"),
    "18600000004": ('赵"六"', "person"),
    "17700000005": ("市房管局", "institution"),
    "19900000006": ("Zhou Qi", "person"),
}
NAMES = ["孙八", "周九", "吴十", "Wang Li", "郑某某", "冯, 二"]


@st.composite
def rosters(draw):
    addresses = draw(
        st.lists(
            st.tuples(
                st.integers(1, 20).map(str),
                st.sampled_from(["", "1", "2", "3"]),
                st.integers(1, 3099).map(str),
            ),
            min_size=1,
            max_size=25,
            unique=True,
        )
    )
    rows = []
    for number, (building, unit, room) in enumerate(addresses, start=2):
        phone = draw(st.none() | st.sampled_from(sorted(PHONE_POOL)))
        if phone:
            name, owner_type = PHONE_POOL[phone]
        else:
            name = draw(st.sampled_from(NAMES))
            owner_type = draw(st.sampled_from(["person", "institution", "developer"]))
        tenant_name = draw(st.none() | st.sampled_from(["租客甲", "租客乙"]))
        tenant_phone = (
            draw(st.none() | st.sampled_from(["13611111111", "13722222222"]))
            if tenant_name
            else None
        )
        rows.append(
            RosterRow(
                row=number,
                building=building,
                unit=unit,
                room=room,
                floor=draw(st.integers(1, 30)),
                area_m2=Decimal(draw(st.integers(1, 999999))) / 100,
                owner_name=name,
                owner_phone=phone,
                owner_ref=None,
                owner_type=owner_type,
                birth_year=draw(st.none() | st.integers(1900, 2100)),
                tenant_name=tenant_name,
                tenant_phone=tenant_phone,
            )
        )
    return rows


@settings(
    max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(rows=rosters(), language=st.sampled_from(["zh", "en"]))
def test_property_valid_rosters_round_trip_through_csv(rows, language):
    result = parse_roster(write_csv([record_of(r) for r in rows], language), "roster.csv")
    assert result.problems == []
    assert result.rows == rows
    assert [r.area_m2 for r in result.rows] == [r.area_m2 for r in rows]


@settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(rows=rosters())
def test_property_valid_rosters_round_trip_through_xlsx(rows):
    result = parse_roster(write_xlsx([record_of(r) for r in rows]), "roster.xlsx")
    assert result.problems == []
    assert result.rows == rows


# --- Regressions for problems found in review -------------------------------------------

REG_HEADER = "楼栋,房号,楼层,专有面积,业主姓名\n"


def test_row_numbers_count_leading_blank_lines():
    result = parse_roster(("\n\n" + REG_HEADER + "3,101,1,-5,张三\n").encode())
    assert [p.row for p in result.problems] == [4]


def test_tab_file_with_leading_blank_line():
    data = "\n楼栋\t房号\t楼层\t专有面积\t业主姓名\n3\t101\t1\t60\t张三\n".encode()
    assert parse_roster(data).rows[0].room == "101"


def test_formula_like_text_survives_both_exports_as_text():
    from app.community.roster import write_csv, write_xlsx

    record = [["1", "", "101", "1", "60.00", "=1+1", "", "", "person", "", "", ""]]
    assert write_csv(record).decode("utf-8-sig").splitlines()[1].split(",")[5] == "'=1+1"
    for data in (write_csv(record), write_xlsx(record)):
        assert parse_roster(data).rows[0].owner_name == "=1+1"


def test_control_characters_are_dropped_and_export_does_not_crash():
    from app.community.roster import write_csv, write_xlsx

    record = [["1", "", "101", "1", "60.00", "张\x0b三", "", "", "person", "", "", ""]]
    assert parse_roster(write_csv(record)).rows[0].owner_name == "张三"
    assert parse_roster(write_xlsx(record)).rows[0].owner_name == "张三"


def test_cr_only_line_endings_and_broken_quotes_are_messages():
    rows = parse_roster((REG_HEADER + "3,101,1,60,张三\n").replace("\n", "\r").encode()).rows
    assert rows[0].room == "101"
    with pytest.raises(RosterFileError):
        parse_roster((REG_HEADER + '3,"101,1,60,张三\n' + "x" * 140000).encode())


def test_long_developer_name_key_fits_the_column():
    from app.community.models import Person

    result = parse_roster(
        (REG_HEADER.strip() + ",业主类型\n" + "1,101,1,60," + "某" * 100 + ",developer\n").encode()
    )
    assert len(result.rows[0].owner_key) <= Person.__table__.c.owner_key.type.length


def test_row_keys_do_not_collide_on_slashes():
    data = b"building,unit,room,floor,area_m2,owner_name\n1/2,,3,1,1,x\n1,2/,3,1,1,y\n"
    assert parse_roster(data).ok


@pytest.mark.parametrize(
    "text, expected", [("3号幢", "3"), ("3号栋", "3"), ("3#楼", "3"), ("3#", "3")]
)
def test_more_building_suffixes(text, expected):
    assert normalize_building(text) == expected


def test_full_width_digits_and_underscores():
    data = (
        REG_HEADER.strip()
        + ",业主手机\n"
        + "１,１０１,２,６５.５,张三,１３８１２３４５６７８\n"
        + "1,102,1_0,6_0,李四,\n"
    ).encode()
    result = parse_roster(data)
    assert result.rows[0].room == "101" and result.rows[0].floor == 2
    assert result.rows[0].owner_phone == "13812345678"
    assert {(p.row, p.column) for p in result.problems} == {(3, "floor"), (3, "area_m2")}
