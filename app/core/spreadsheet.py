"""The one spreadsheet reader: CSV (UTF-8 or GBK) or XLSX, checked before it is parsed.

Committees keep rosters, paper ballots and fund statements in Excel. Every import reads
them here: the file's size, an XLSX archive's uncompressed size and the number of rows
and columns are checked first (a 1 MB "decompression bomb" must not hold a worker), then
the header row is found and mapped (Chinese or English names), blank rows are skipped and
each record keeps the row number the spreadsheet shows. No Flask, no database.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from app.core.errors import N_, DomainError
from app.core.text import clean_text

MAX_FILE_BYTES = 10 * 1024 * 1024
# An XLSX of 20,000 roster rows unpacks to about 8 MB; refuse archives that claim more.
MAX_UNPACKED_BYTES = 40 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 60
# Parsing costs per cell: a roster of 20,000 homes has about 240,000. A sheet declaring more
# (counted in its XML before it is parsed) is refused, whatever its rows look like.
MAX_CELLS = 320_000
MAX_SHARED_STRINGS_BYTES = 16 * 1024 * 1024

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FORMULA_START = ("=", "+", "-", "@")


class SpreadsheetError(DomainError):
    """The file as a whole cannot be read (format, encoding, size, headers)."""


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be imported. row is the spreadsheet row (header = 1)."""

    message: str
    params: dict = field(default_factory=dict)
    row: int | None = None
    column: str | None = None


class FileRejected(DomainError):
    """The file has bad rows; nothing was imported. problems lists every one."""

    def __init__(self, problems: list[Problem]):
        rows = len({p.row for p in problems})
        super().__init__(N_("Nothing was imported: problems on %(n)s rows."), n=rows)
        self.problems = problems


def clean_cell(text: str) -> str:
    """Strip spaces, control and direction characters (the shared input filter, with
    newlines too: a cell is one line); undo the quote that guards formula-like text."""
    text = _CONTROL.sub("", clean_text(text)).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        text = text[1:]
    return text


def cell_text(value) -> str:
    """Text of a cell as a person would read it (Excel turns 101 into 101.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return clean_cell(str(value))


def read_table(
    data: bytes, filename: str = "", *, max_rows: int = MAX_ROWS, max_columns: int = MAX_COLUMNS
) -> list[list[str]]:
    """Read a CSV (UTF-8 or GBK) or XLSX file into rows of cell texts, within limits."""
    if not data:
        raise SpreadsheetError(N_("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise SpreadsheetError(N_("The file is larger than 10 MB. Please choose a smaller file."))
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        return _read_xlsx(data, max_rows, max_columns)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" or filename.lower().endswith(".xls"):
        raise SpreadsheetError(N_("Old .xls files cannot be read. Save the sheet as .xlsx or CSV."))
    return _read_csv(data, max_rows, max_columns)


def _too_many_rows(max_rows: int):
    return SpreadsheetError(N_("The file has more than %(max)s rows."), max=max_rows)


def _read_csv(data: bytes, max_rows: int, max_columns: int) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything
        raise SpreadsheetError(N_("The file is not UTF-8 or GBK text."))
    if "\x00" in text:
        raise SpreadsheetError(N_("This is not a CSV or XLSX file."))
    first = next((line for line in text.splitlines() if line.strip(" ,\t")), "")
    delimiter = "\t" if "\t" in first and "," not in first else ","
    rows = []
    filled = 0
    try:
        # newline=None reads \r, \n and \r\n line endings alike (old Mac Excel writes \r).
        for row in csv.reader(io.StringIO(text, newline=None), delimiter=delimiter):
            cells = [clean_cell(c) for c in row[:max_columns]]
            rows.append(cells)
            filled += any(cells)
            if filled > max_rows + 1:
                raise _too_many_rows(max_rows)
    except csv.Error as exc:
        raise SpreadsheetError(
            N_("The CSV file could not be read (%(reason)s)."), reason=str(exc)
        ) from exc
    return rows


TOO_BIG = N_(
    "This spreadsheet is far larger inside than a roster or list of homes can be. "
    "Save only the sheet you need as a new file and try again."
)


def check_archive(data: bytes, *, max_rows: int = MAX_ROWS, max_cells: int = MAX_CELLS) -> None:
    """Refuse an XLSX that would cost too much to parse, before parsing it.

    First the sizes in the archive's directory (zipfile never inflates a member beyond the
    size it declares, so a member that lies is cut off); then the worksheets' XML is
    streamed and its rows and cells counted (a plain byte count, no XML parsing): far
    faster than openpyxl reading the same cells.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > 500 or sum(m.file_size for m in members) > MAX_UNPACKED_BYTES:
                raise SpreadsheetError(TOO_BIG)
            for member in members:
                name = member.filename.lower()
                if (
                    name.endswith("sharedstrings.xml")
                    and member.file_size > MAX_SHARED_STRINGS_BYTES
                ):
                    raise SpreadsheetError(TOO_BIG)
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    rows, cells = _count_rows_and_cells(archive, member)
                    if rows > 4 * max_rows + 1000 or cells > max_cells:
                        raise SpreadsheetError(TOO_BIG)
    except SpreadsheetError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise SpreadsheetError(N_("The XLSX file could not be opened.")) from exc


def _count_rows_and_cells(archive: zipfile.ZipFile, member) -> tuple[int, int]:
    """How many <row> and <c> elements a worksheet's XML holds (streamed in chunks)."""
    rows = cells = 0
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            text = tail + chunk
            rows += text.count(b"<row") - tail.count(b"<row")
            cells += (
                text.count(b"<c ") + text.count(b"<c>") - tail.count(b"<c ") - tail.count(b"<c>")
            )
            tail = text[-4:]
    return rows, cells


def _read_xlsx(data: bytes, max_rows: int, max_columns: int) -> list[list[str]]:
    from openpyxl import load_workbook

    check_archive(data, max_rows=max_rows)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - a broken file of any kind is the user's message
        raise SpreadsheetError(N_("The XLSX file could not be opened.")) from exc
    try:
        if not book.worksheets:
            raise SpreadsheetError(N_("The XLSX file has no sheet."))
        sheet = book.worksheets[0]
        rows = []
        filled = 0
        for values in sheet.iter_rows(values_only=True, max_col=max_columns):
            cells = [cell_text(v) for v in values]
            rows.append(cells)
            filled += any(cells)
            if filled > max_rows + 1:
                raise _too_many_rows(max_rows)
            if len(rows) > 4 * max_rows + 1000:  # mostly blank rows: stop reading
                break
        return rows
    except SpreadsheetError:
        raise
    except Exception as exc:  # noqa: BLE001 - malformed sheet XML, bad styles …
        raise SpreadsheetError(N_("The XLSX file could not be opened.")) from exc
    finally:
        book.close()


# --- tables with a header row ----------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One non-blank row: its spreadsheet row number and its cells by field name."""

    row: int
    values: dict[str, str]

    def get(self, key: str) -> str:
        return self.values.get(key, "")


@dataclass
class Table:
    header: list[str]
    records: list[Record]
    ignored_columns: list[str] = field(default_factory=list)
    columns: frozenset[str] = frozenset()  # the field names the header named


def header_key(name: str, lookup: dict[str, str]) -> str | None:
    name = name.strip().lstrip("\ufeff")
    return lookup.get(name) or lookup.get(name.lower())


def read_records(
    data: bytes,
    filename: str,
    lookup: dict[str, str],
    *,
    required: tuple[str, ...],
    labels: dict[str, str] | None = None,
    max_rows: int = MAX_ROWS,
) -> Table:
    """Read a file whose first non-blank row names the columns.

    lookup maps header texts (Chinese or English, compared case-insensitively) to field
    names. A file missing any required column is refused whole, naming what is missing
    and what was found, so a different spreadsheet is never read by position.
    """
    table = read_table(data, filename, max_rows=max_rows)
    skipped = 0
    while table and not any(table[0]):
        table.pop(0)
        skipped += 1
    if not table:
        raise SpreadsheetError(N_("The file is empty."))
    header = table[0]
    columns: dict[str, int] = {}
    ignored = []
    for index, name in enumerate(header):
        key = header_key(name, lookup)
        if key is None:
            if name.strip():
                ignored.append(name.strip())
            continue
        if key in columns:
            raise SpreadsheetError(N_("The column %(column)s appears twice."), column=name)
        columns[key] = index
    missing = [(labels or {}).get(k, k) for k in required if k not in columns]
    if missing:
        found = ", ".join(h for h in header if h) or "-"
        raise SpreadsheetError(
            N_("Required columns are missing: %(missing)s. Found: %(found)s."),
            missing=", ".join(missing),
            found=found[:300] + ("…" if len(found) > 300 else ""),
        )
    records = []
    for offset, cells in enumerate(table[1:]):
        if not any(c.strip() for c in cells):
            continue
        values = {
            key: cells[index].strip() if index < len(cells) else ""
            for key, index in columns.items()
        }
        records.append(Record(skipped + offset + 2, values))
    return Table(
        header=header, records=records, ignored_columns=ignored, columns=frozenset(columns)
    )


def _guard(value) -> str:
    """Text for a spreadsheet cell; formula-like text gets a leading quote so Excel shows it."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not re.fullmatch(r"[+-]?\d+(\.\d+)?", text):
        return "'" + text
    return text


def write_table_csv(header: list[str], records: list[list]) -> bytes:
    """Write rows as UTF-8 CSV with a BOM, so Excel opens Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for record in records:
        writer.writerow([_guard(v) for v in record])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_table_xlsx(header: list[str], records: list[list], sheet_name: str) -> bytes:
    """Write rows as an XLSX sheet; every cell is text, never a formula."""
    return write_tables_xlsx({sheet_name: (header, records)})


def write_tables_xlsx(sheets: dict[str, tuple[list[str], list[list]]]) -> bytes:
    """Write several sheets (name -> (header, rows)); every cell is text, never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    for sheet_name, (header, records) in sheets.items():
        sheet = book.create_sheet(sheet_name)
        sheet.append(header)
        for record in records:
            cells = []
            for value in record:
                cell = WriteOnlyCell(
                    sheet, value=_CONTROL.sub("", "" if value is None else str(value))
                )
                cell.data_type = "s"
                cells.append(cell)
            sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
