"""The roster CSV: supporters and officers as a coordinator keeps them in a spreadsheet.

One row per person, a `kind` column (`supporter` or `officer`) and flat columns for the
fields of the `PUT` routes' records (docs/roster.md, decision 21). Each row becomes the
very record those routes take (`SupporterRecord`, `TrainingRecord`, `OfficerRecord`),
validated by the same models, so a file holds exactly the rules of the API. A bad cell
is reported by its row as a spreadsheet numbers it (the header is row 1) and its
column, and never with its value: a rejected file may hold the personal details it was
meant to bring in.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.events import SupporterId
from shared.ids import PersonnelId
from shared.vocab import TrainingArea

from .officers import OfficerRecord
from .supporters import SupporterRecord
from .training import TrainingRecord

KIND = "kind"
TRAINING = {f"training_{area.value}": area for area in TrainingArea}
SUPPORTER_COLUMNS = (
    "supporter_id",
    "personnel_id",
    "display_name",
    "email",
    "phone",
    "url",
    "rank",
    "unit",
    "gender",
    "languages",
    "background",
    "specialties",
    "certified_until",
    "active",
    "max_open_assignments",
    "accepts_cross_agency",
    "timezone",
    "weekly",
    "on_call",
    "leave",
    "quiet_start",
    "quiet_end",
    *TRAINING,
)
# An officer's own name and contact details, sealed as a PUT seals them. Columns of their
# own, not a supporter's `display_name`, `email` and `phone`: a sheet shows at a glance
# which details reach the people served, and which reach the supporters.
OFFICER_DETAILS = {
    "officer_name": ("display_name",),
    "officer_phone": ("contact", "phone"),
    "officer_email": ("contact", "email"),
    "officer_preferred": ("contact", "preferred"),
}
OFFICER_COLUMNS = ("personnel_id", "unit", "rank", "supervisor_id", "background", *OFFICER_DETAILS)
COLUMNS = (KIND, *SUPPORTER_COLUMNS, "supervisor_id", *OFFICER_DETAILS)

# Columns that are fields of a part of the supporter record, not of the record itself:
# (part, field), and the column of each such field, to place its errors.
_PARTS = {
    "email": ("contact", "email"),
    "phone": ("contact", "phone"),
    "url": ("contact", "url"),
    "timezone": ("availability", "timezone"),
    "weekly": ("availability", "weekly"),
    "on_call": ("availability", "on_call"),
    "leave": ("availability", "leave"),
    "quiet_start": ("quiet_hours", "start"),
    "quiet_end": ("quiet_hours", "end"),
}
_PART_COLUMNS = {place: column for column, place in _PARTS.items()}
_OFFICER_PLACES = {place: column for column, place in OFFICER_DETAILS.items()}
_WINDOW = re.compile(r"^(\S+)\s+([^\s-]+)\s*-\s*([^\s-]+)$")
_COLUMN_NAME = re.compile(r"^[a-z0-9_]{1,64}$")
_SUPPORTER_ID = TypeAdapter(SupporterId)
_PERSONNEL_ID = TypeAdapter(PersonnelId)


@dataclass(frozen=True)
class SupporterLine:
    kind: ClassVar[str] = "supporter"
    row: int
    supporter_id: str
    record: SupporterRecord
    training: dict[TrainingArea, TrainingRecord]


@dataclass(frozen=True)
class OfficerLine:
    kind: ClassVar[str] = "officer"
    row: int
    personnel_id: str
    record: OfficerRecord


Line = SupporterLine | OfficerLine


def column_of(field: str | None) -> str | None:
    """The column holding a record's `field` as a use case names it (`contact.url`)."""
    if field is None:
        return None
    return _PART_COLUMNS.get(tuple(field.split(".")), field)


def row_error(row: int, column: str | None, msg: str) -> dict:
    """An error as the problem document lists it: `loc` is [row, column]."""
    return {"loc": [row] if column is None else [row, column], "msg": msg}


def parse(body: bytes, agency: str) -> tuple[list[Line], list[dict]]:
    """The good rows of the file as records of `agency`, and an error (`row_error`) for
    every bad cell, in row order. Blank rows are skipped; a bad header leaves no rows."""
    try:
        text = body.decode("utf-8-sig")  # spreadsheets often write a byte-order mark
    except UnicodeDecodeError:
        return [], [row_error(1, None, "the file is not UTF-8 text")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        first = next(reader, None)
        if first is None:
            return [], [row_error(1, None, "the file is empty: its first row names the columns")]
        header, errors = _header(first)
        if errors:
            return [], errors
        lines: list[Line] = []
        for number, cells in enumerate(reader, start=2):
            row = _Row(number, header, cells)
            line = row.line(agency)
            errors += row.errors
            if line is not None:
                lines.append(line)
    except csv.Error:  # a NUL character, a cell past the csv module's size limit
        return [], [row_error(reader.line_num, None, "not readable as CSV")]
    errors += _repeats(lines)
    return lines, sorted(errors, key=lambda error: _place(error, header))


def _header(cells: list[str]) -> tuple[list[str], list[dict]]:
    names = [cell.strip().lower() for cell in cells]
    errors = []
    for position, name in enumerate(names, start=1):
        shown = name if _COLUMN_NAME.fullmatch(name) else f"column {position}"
        if not name:
            continue  # a column without a name must stay blank (`_Row`)
        if name not in COLUMNS:
            errors.append(row_error(1, shown, "not a column of the roster CSV"))
        elif name in names[: position - 1]:
            errors.append(row_error(1, shown, "the column appears twice"))
    if KIND not in names:
        errors.append(row_error(1, KIND, "the kind column is required"))
    return names, errors


def _place(error: dict, header: list[str]) -> tuple[int, int]:
    """Where an error is in the file: its row, then its column from the left."""
    row, *column = error["loc"]
    return row, header.index(column[0]) if column and column[0] in header else len(header)


class _Row:
    """One row's filled cells by column, and the errors found in them."""

    def __init__(self, number: int, header: list[str], cells: list[str]) -> None:
        self.number = number
        self.errors: list[dict] = []
        self.values: dict[str, str] = {}
        for position, cell in enumerate(cells):
            value = cell.strip()
            if not value:
                continue
            if position < len(header) and header[position]:
                self.values[header[position]] = value
            else:
                self.error(f"column {position + 1}", "a cell in a column the header does not name")

    def line(self, agency: str) -> Line | None:
        """The row as a record, or None: a blank row, or one with errors."""
        if not self.values and not self.errors:
            return None
        kind = self.values.pop(KIND, "").lower()
        if kind == SupporterLine.kind:
            return self._supporter(agency)
        if kind == OfficerLine.kind:
            return self._officer()
        self.error(KIND, "must be supporter or officer")
        return None

    def _supporter(self, agency: str) -> SupporterLine | None:
        self._only(SUPPORTER_COLUMNS)
        supporter_id = self._required("supporter_id", _SUPPORTER_ID)
        fields: dict[str, Any] = {"agency_id": agency}
        training = {}
        for column in self.values:
            if column not in SUPPORTER_COLUMNS or column == "supporter_id":
                continue
            value = self._parsed(column, _PARSERS.get(column, str))
            if value is None:
                continue
            if column in TRAINING:
                training[TRAINING[column]] = value
            elif column in _PARTS:
                part, field = _PARTS[column]
                fields.setdefault(part, {})[field] = value
            else:
                fields[column] = value
        record = self._record(SupporterRecord, fields)
        if self.errors:
            return None
        return SupporterLine(self.number, supporter_id, record, training)

    def _officer(self) -> OfficerLine | None:
        self._only(OFFICER_COLUMNS)
        personnel_id = self._required("personnel_id", _PERSONNEL_ID)
        fields: dict[str, Any] = {}
        for column in self.values:
            if column not in OFFICER_COLUMNS[1:]:
                continue
            value = self._parsed(column, _PARSERS.get(column, str))
            place = OFFICER_DETAILS.get(column, (column,))
            if len(place) == 2:  # a field of the officer's contact
                fields.setdefault(place[0], {})[place[1]] = value
            else:
                fields[place[0]] = value
        record = self._record(OfficerRecord, fields, _OFFICER_PLACES)
        if self.errors:
            return None
        return OfficerLine(self.number, personnel_id, record)

    def error(self, column: str | None, msg: str) -> None:
        self.errors.append(row_error(self.number, column, msg))

    def _only(self, columns: tuple[str, ...]) -> None:
        """Filled cells in columns the row's kind does not have are refused, not ignored."""
        for column in self.values:
            if column not in columns:
                self.error(column, "not a column of this kind of row; leave it blank")

    def _required(self, column: str, adapter: TypeAdapter) -> str | None:
        if column not in self.values:
            self.error(column, "Field required")
            return None
        return self._parsed(column, adapter.validate_python)

    def _parsed(self, column: str, parse: Callable[[str], Any]) -> Any:
        """The column's cell as `parse` reads it; None, and its errors, if it cannot."""
        try:
            return parse(self.values[column])
        except ValidationError as exc:
            self._invalid(exc, column)
        except ValueError as exc:
            self.error(column, str(exc))
        return None

    def _record(
        self,
        model: type[BaseModel],
        fields: dict[str, Any],
        places: dict[tuple, str] = _PART_COLUMNS,
    ) -> Any:
        try:
            return model.model_validate(fields)
        except ValidationError as exc:
            self._invalid(exc, places=places)
            return None

    def _invalid(
        self,
        exc: ValidationError,
        column: str | None = None,
        places: dict[tuple, str] = _PART_COLUMNS,
    ) -> None:
        """A model's errors, each at its column: a field of `contact`, `availability` or
        `quiet_hours` is a column of its own, and so is each of an officer's details
        (`places` maps a field's place in the record to its column); `column` is given
        when one cell was validated alone. A list item or a field within the cell is
        named before the message."""
        for error in exc.errors():
            loc = list(error["loc"])
            if column is None:
                at, loc = _column_of(loc, places)
            else:
                at = column
            where = ", ".join(f"item {p + 1}" if isinstance(p, int) else str(p) for p in loc)
            self.error(at, f"{where}: {error['msg']}" if where else error["msg"])


def _column_of(loc: list, places: dict[tuple, str]) -> tuple[str, list]:
    """The column of the field at `loc` in a record, and the rest of `loc` within it."""
    for depth in (2, 1):
        at = places.get(tuple(loc[:depth]))
        if at is not None:
            return at, loc[depth:]
    return str(loc[0]), loc[1:]


def _items(cell: str) -> list[str]:
    """A list cell: items separated by `;`."""
    return [item.strip() for item in cell.split(";") if item.strip()]


def _interval(cell: str, expected: str) -> dict[str, str]:
    """`start/end`, as ISO 8601 writes an interval."""
    parts = cell.split("/")
    if len(parts) != 2:
        raise ValueError(f"expected {expected}")
    return {"start": parts[0].strip(), "end": parts[1].strip()}


def _training(cell: str) -> TrainingRecord:
    """`2026-01-10/2028-01-10`: completed on, expires on."""
    dates = _interval(cell, "completed_on/expires_on, such as 2026-01-10/2028-01-10")
    return TrainingRecord(completed_on=dates["start"], expires_on=dates["end"])


def _weekly(cell: str) -> list[dict[str, str]]:
    """`mon 08:00-18:00; tue 08:00-18:00` as weekly windows."""
    windows = []
    for item in _items(cell):
        match = _WINDOW.fullmatch(item)
        if match is None:
            raise ValueError("windows look like 'mon 08:00-18:00', separated by ';'")
        day, start, end = match.groups()
        windows.append({"day": day.lower(), "start": start, "end": end})
    return windows


def _spans(cell: str) -> list[dict[str, str]]:
    """`2026-12-01T00:00Z/2026-12-02T00:00Z; ...` as periods."""
    expected = "start/end date-times with offsets, such as 2026-12-01T00:00Z/2026-12-02T00:00Z"
    return [_interval(item, expected) for item in _items(cell)]


def _way(cell: str) -> str:
    """A preferred way as a spreadsheet may write it: `Text`, `in person`."""
    return "_".join(cell.lower().split())


_PARSERS: dict[str, Callable[[str], Any]] = {
    "officer_preferred": _way,
    "languages": _items,
    "background": _items,
    "specialties": _items,
    "weekly": _weekly,
    "on_call": _spans,
    "leave": _spans,
    **dict.fromkeys(TRAINING, _training),
}


def _repeats(lines: list[Line]) -> list[dict]:
    """A supporter or an officer twice in one file is an error, not a silent last-wins."""
    first: dict[tuple[str, str, str], int] = {}
    errors = []
    for line in lines:
        if isinstance(line, SupporterLine):
            keys = {"supporter_id": line.supporter_id, "personnel_id": line.record.personnel_id}
        else:
            keys = {"personnel_id": line.personnel_id}
        for column, value in keys.items():
            row = first.setdefault((line.kind, column, value), line.row)
            if row != line.row:
                errors.append(row_error(line.row, column, f"the same {line.kind} as row {row}"))
    return errors
