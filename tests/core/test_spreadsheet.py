"""The shared spreadsheet reader refuses oversized files before parsing them."""

import io
import zipfile

import pytest
from openpyxl import Workbook

from app.core import spreadsheet
from app.core.spreadsheet import SpreadsheetError, read_records, read_table


def xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def bomb(unpacked_mb: int) -> bytes:
    """A valid XLSX whose sheet inflates to unpacked_mb megabytes of empty rows."""
    source = zipfile.ZipFile(io.BytesIO(xlsx([["楼栋", "房号"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                head, tail = data.split(b"</sheetData>")
                filler = b"<row/>" * (unpacked_mb * 1024 * 1024 // 6)
                data = head + filler + b"</sheetData>" + tail
            target.writestr(info.filename, data)
    return out.getvalue()


def test_a_decompression_bomb_is_refused_before_parsing(monkeypatch):
    data = bomb(64)
    assert len(data) < 1024 * 1024
    import openpyxl

    def never(*args, **kwargs):
        raise AssertionError("the bomb was parsed")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    with pytest.raises(SpreadsheetError) as refused:
        read_table(data, "roster.xlsx")
    assert "larger inside" in refused.value.message


def test_rows_and_columns_are_bounded():
    wide = xlsx([list(range(500))])
    assert len(read_table(wide, "w.xlsx")[0]) == spreadsheet.MAX_COLUMNS
    many = "\n".join(["a,b"] * 30).encode()
    with pytest.raises(SpreadsheetError):
        read_table(many, "m.csv", max_rows=10)
    with pytest.raises(SpreadsheetError):
        read_table(xlsx([["a"]] * 30), "m.xlsx", max_rows=10)


def test_records_map_chinese_or_english_headers_and_keep_row_numbers():
    data = "\n\n楼栋,Room,其他\n1,101,x\n,,\n2,201,y\n".encode()
    table = read_records(
        data, "f.csv", {"楼栋": "building", "room": "room"}, required=("building", "room")
    )
    assert [(r.row, r.get("building"), r.get("room")) for r in table.records] == [
        (4, "1", "101"),
        (6, "2", "201"),
    ]
    assert table.ignored_columns == ["其他"]


def test_a_file_without_the_required_headers_is_refused_whole():
    with pytest.raises(SpreadsheetError) as refused:
        read_records(
            b"1,101,60\n",
            "f.csv",
            {"楼栋": "building"},
            required=("building",),
            labels={"building": "楼栋 / building"},
        )
    assert refused.value.params["missing"] == "楼栋 / building"


def test_a_roster_of_the_largest_size_allowed_is_not_mistaken_for_a_bomb():
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("roster")
    sheet.append(
        [
            "楼栋",
            "单元",
            "房号",
            "楼层",
            "专有面积",
            "业主姓名",
            "业主手机",
            "产权人编号",
            "业主类型",
            "出生年份",
            "租户姓名",
            "租户手机",
        ]
    )
    for n in range(spreadsheet.MAX_ROWS):
        sheet.append(
            [
                str(n // 120),
                "1",
                str(n),
                3,
                "72.50",
                f"业主{n}",
                str(13000000000 + n),
                "",
                "person",
                1950,
                "",
                "",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    spreadsheet.check_archive(out.getvalue())  # refuses nothing
