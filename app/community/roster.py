"""Roster files: read a committee's CSV/XLSX, check every row, write it back.

Pure rules, no Flask and no database: the service applies what this module returns.
Messages are English msgids marked with N_ and translated at the edge, so a
committee reads "row 7: area must be greater than 0" in its own language.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from app.core.errors import N_
from app.core.privacy import normalize_mobile
from app.core.spreadsheet import (  # noqa: F401  (re-exported: the roster's readers)
    FORMULA_START,
    MAX_ROWS,
    clean_cell,
    read_records,
    read_table,
    write_table_csv,
    write_table_xlsx,
    write_tables_xlsx,
)
from app.core.spreadsheet import Problem as RosterProblem
from app.core.spreadsheet import SpreadsheetError as RosterFileError
from app.core.spreadsheet import cell_text as _cell_text  # noqa: F401

# Canonical field -> (Chinese header, English header). Order is the export order.
COLUMNS: dict[str, tuple[str, str]] = {
    "building": ("楼栋", "building"),
    "unit": ("单元", "unit"),
    "room": ("房号", "room"),
    "floor": ("楼层", "floor"),
    "area_m2": ("专有面积", "area_m2"),
    "owner_name": ("业主姓名", "owner_name"),
    "owner_phone": ("业主手机", "owner_phone"),
    "owner_ref": ("产权人编号", "owner_ref"),
    "owner_type": ("业主类型", "owner_type"),
    "birth_year": ("出生年份", "birth_year"),
    "tenant_name": ("租户姓名", "tenant_name"),
    "tenant_phone": ("租户手机", "tenant_phone"),
}
REQUIRED = ("building", "room", "floor", "area_m2", "owner_name")
OWNER_TYPES = {
    "person": "person",
    "个人": "person",
    "": "person",
    "institution": "institution",
    "单位": "institution",
    "公房产权单位": "institution",
    "developer": "developer",
    "开发商": "developer",
    "开发单位": "developer",
}
MAX_AREA = Decimal("10000")

_HEADER_LOOKUP = {}
for _key, (_zh, _en) in COLUMNS.items():
    _HEADER_LOOKUP[_zh] = _key
    _HEADER_LOOKUP[_en] = _key
_HEADER_LOOKUP.update({"面积": "area_m2", "手机": "owner_phone", "姓名": "owner_name"})


@dataclass(frozen=True)
class RosterRow:
    row: int
    building: str
    unit: str
    room: str
    floor: int
    area_m2: Decimal
    owner_name: str
    owner_phone: str | None
    owner_ref: str | None
    owner_type: str
    birth_year: int | None
    tenant_name: str | None = None
    tenant_phone: str | None = None

    @property
    def address(self) -> tuple[str, str, str]:
        return (self.building, self.unit, self.room)

    @property
    def owner_key(self) -> str:
        """Who this owner is on the roster (DESIGN §2/§3: ref, else phone; developer as one)."""
        if self.owner_type == "developer":
            return f"developer:{self.owner_ref or self.owner_name}"
        if self.owner_ref:
            return f"ref:{self.owner_ref}"
        if self.owner_phone:
            return f"phone:{self.owner_phone}"
        return "row:" + json.dumps(self.address, ensure_ascii=False)

    @property
    def tenant_key(self) -> str | None:
        if not self.tenant_name:
            return None
        if self.tenant_phone:
            return f"tenant:{self.tenant_phone}"
        return "tenant-row:" + json.dumps(self.address, ensure_ascii=False)


@dataclass
class RosterResult:
    rows: list[RosterRow]
    problems: list[RosterProblem]
    has_tenant_columns: bool = False
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def natural_key(text: str) -> str:
    """Sort "2" before "10" by zero-padding digit runs."""
    return re.sub(r"\d+", lambda m: m.group().zfill(6), text)[:40]


def normalize_building(text: str) -> str:
    text = text.strip()
    return re.sub(r"(号楼|号幢|号栋|#楼|号|幢|栋|楼|#)$", "", text).strip() or text


def normalize_unit(text: str) -> str:
    text = text.strip()
    return re.sub(r"单元$", "", text).strip()


def _ascii_number(text: str) -> str:
    """Full-width digits (１０１) become ASCII; underscores are not digits to a person."""
    return unicodedata.normalize("NFKC", text).replace(" ", "")


def parse_roster(data: bytes, filename: str = "") -> RosterResult:
    """Read and check a roster file; the result lists every bad row with its reason."""
    table = read_records(
        data,
        filename,
        _HEADER_LOOKUP,
        required=REQUIRED,
        labels={k: f"{zh} / {en}" for k, (zh, en) in COLUMNS.items()},
    )
    rows: list[RosterRow] = []
    problems: list[RosterProblem] = []
    seen_rooms: dict[tuple[str, str, str], int] = {}
    seen_owners: dict[str, tuple[str, str, int]] = {}
    for record in table.records:
        number = record.row
        row, row_problems = _check_row(number, record.get)
        problems.extend(row_problems)
        if row is None:
            continue
        if row.address in seen_rooms:
            problems.append(
                RosterProblem(
                    N_(
                        "room %(room)s in building %(building)s appears again (first on row %(first)s)"
                    ),
                    {"room": row.room, "building": row.building, "first": seen_rooms[row.address]},
                    number,
                    "room",
                )
            )
            continue
        seen_rooms[row.address] = number
        key = row.owner_key
        if key in seen_owners:
            name, owner_type, first = seen_owners[key]
            if name != row.owner_name or owner_type != row.owner_type:
                problems.append(
                    RosterProblem(
                        N_(
                            "the same owner (%(key)s) is named %(first_name)s on row %(first)s; "
                            "use an owner_ref to tell different owners apart"
                        ),
                        {"key": key.split(":", 1)[1], "first_name": name, "first": first},
                        number,
                        "owner_name",
                    )
                )
                continue
        else:
            seen_owners[key] = (row.owner_name, row.owner_type, number)
        rows.append(row)
    if not rows and not problems:
        raise RosterFileError(N_("The file has a header but no rows."))
    return RosterResult(
        rows=rows,
        problems=problems,
        has_tenant_columns="tenant_name" in table.columns,
        ignored_columns=table.ignored_columns,
    )


class _Bad(ValueError):
    """One cell's problem: the message (a msgid) and its parameters."""

    def __init__(self, message: str, **params):
        super().__init__(message)
        self.message, self.params = message, params


def _text(value: str, *, empty: str | None, long: str, limit: int) -> str:
    if not value and empty:
        raise _Bad(empty)
    if len(value) > limit:
        raise _Bad(long)
    return value


def _floor(text: str) -> int:
    digits = _ascii_number(text).removeprefix("+")
    if not digits.isdigit() or not 1 <= int(digits) <= 200:
        raise _Bad(N_('floor must be a whole number of 1 or more, not "%(value)s"'), value=text)
    return int(digits)


def _area(raw: str) -> Decimal:
    text = _ascii_number(raw).replace(",", "")
    try:
        if "_" in text:
            raise InvalidOperation
        area = Decimal(text)
        if not area.is_finite():
            raise InvalidOperation
    except InvalidOperation as exc:
        raise _Bad(N_('area must be a number in m², not "%(value)s"'), value=raw) from exc
    if area <= 0 or area >= MAX_AREA:
        raise _Bad(
            N_("area must be greater than 0 and less than 10000 m², not %(value)s"), value=raw
        )
    if area != area.quantize(Decimal("0.01")):
        raise _Bad(N_("area has more than two decimals: %(value)s"), value=raw)
    return area


def _owner_type(text: str) -> str:
    kind = OWNER_TYPES.get(text.lower())
    if kind is None:
        raise _Bad(
            N_('owner type must be person, institution or developer, not "%(value)s"'), value=text
        )
    return kind


def _phone(text: str) -> str | None:
    try:
        return normalize_mobile(text)
    except ValueError as exc:
        raise _Bad(
            N_('phone must be an 11-digit mainland mobile number, not "%(value)s"'), value=text
        ) from exc


def _birth_year(text: str) -> int | None:
    if not text:
        return None
    digits = _ascii_number(text)
    if not digits.isdigit() or not 1900 <= int(digits) <= 2100:
        raise _Bad(N_('birth year must be a year such as 1950, not "%(value)s"'), value=text)
    return int(digits)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


# Each column's reader: cell text -> value, or _Bad with the reason.
_READERS = {
    "building": lambda v: _text(
        normalize_building(_nfkc(v)),
        empty=N_("building is empty"),
        long=N_("building is too long"),
        limit=20,
    ),
    "unit": lambda v: _text(
        normalize_unit(_nfkc(v)), empty=None, long=N_("unit is too long"), limit=20
    ),
    "room": lambda v: _text(
        _nfkc(v), empty=N_("room is empty"), long=N_("room is too long"), limit=20
    ),
    "floor": _floor,
    "area_m2": _area,
    "owner_name": lambda v: _text(
        v, empty=N_("owner name is empty"), long=N_("owner name is too long"), limit=100
    ),
    "owner_type": _owner_type,
    "owner_phone": _phone,
    "owner_ref": lambda v: _text(v, empty=None, long=N_("owner_ref is too long"), limit=60) or None,
    "birth_year": _birth_year,
    "tenant_name": lambda v: (
        _text(v, empty=None, long=N_("tenant name is too long"), limit=100) or None
    ),
    "tenant_phone": _phone,
}


def _check_row(number: int, get) -> tuple[RosterRow | None, list[RosterProblem]]:
    problems: list[RosterProblem] = []
    values = {}
    for column, read in _READERS.items():
        try:
            values[column] = read(get(column))
        except _Bad as bad:
            problems.append(RosterProblem(bad.message, bad.params, number, column))
    if values.get("tenant_phone") and not values.get("tenant_name") and "tenant_name" in values:
        problems.append(
            RosterProblem(N_("a tenant phone needs a tenant name"), {}, number, "tenant_name")
        )
    if problems:
        return None, problems
    return RosterRow(
        row=number,
        building=values["building"],
        unit=values["unit"],
        room=values["room"],
        floor=values["floor"],
        area_m2=values["area_m2"],
        owner_name=values["owner_name"],
        owner_phone=values["owner_phone"],
        owner_ref=values["owner_ref"],
        owner_type=values["owner_type"],
        birth_year=values["birth_year"],
        tenant_name=values["tenant_name"],
        tenant_phone=values["tenant_phone"],
    ), []


def header_row(language: str = "zh") -> list[str]:
    """The export header, in Chinese (default) or English."""
    return [zh if language == "zh" else en for zh, en in COLUMNS.values()]


def write_csv(records: list[list], language: str = "zh") -> bytes:
    """Write roster records in the import format as CSV."""
    return write_table_csv(header_row(language), records)


def write_xlsx(records: list[list], language: str = "zh") -> bytes:
    """Write roster records in the import format as XLSX (phones keep their digits)."""
    return write_table_xlsx(header_row(language), records, "roster")
