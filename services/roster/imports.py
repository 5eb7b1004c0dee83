"""A roster CSV imported in one go, all or nothing (coordinators; decision 21).

Every row is checked before anything is kept: first against the records' models
(`roster_csv`), then by the same writes the `PUT` routes make (`write_supporter`,
`write_training`, `write_officer`), inside one transaction that is left uncommitted if
any row is refused. So a file is imported whole or not at all, with an error for every
bad row, and a coordinator fixes the file and sends it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.errors import DomainError, Invalid
from shared.events import Event
from shared.ids import AgencyId

from . import revision
from .officers import write_officer
from .personal import Sealer
from .revision import Written
from .roster_csv import Line, OfficerLine, SupporterLine, column_of, parse, row_error
from .store import CHUNK, OfficerRow, SupporterRow, TrainingRow
from .supporters import write_supporter
from .training import write_training


class ImportCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, written: Written) -> None:
        if written.created:
            self.created += 1
        elif written.event is not None:
            self.updated += 1
        else:
            self.unchanged += 1


class Imported(BaseModel):
    agency_id: AgencyId
    dry_run: bool = Field(description="True: checked in full, nothing kept.")
    supporters: ImportCounts = Field(default_factory=ImportCounts)
    training: ImportCounts = Field(default_factory=ImportCounts, description="Training records.")
    officers: ImportCounts = Field(default_factory=ImportCounts)


class RowsRefused(Invalid):
    """Some rows are not valid, and nothing was imported: an error (`row_error`) for
    every bad cell and every refused row, in row order."""

    def __init__(self, errors: list[dict]) -> None:
        super().__init__(None, "Some rows are not valid; nothing was imported.", errors=errors)


async def import_roster(
    session: AsyncSession,
    caller: Principal,
    agency: str,
    content: bytes,
    sealer: Sealer,
    *,
    dry_run: bool,
    source: str,
) -> Imported:
    """Check every row of the file `content` for `agency` and, unless `dry_run`, stage
    every record that changes with its event and one new revision; what was done."""
    lines, errors = parse(content, agency)
    imported = Imported(agency_id=agency, dry_run=dry_run)
    events: list[Event] = []
    stored = await _Stored.read(session, agency, lines)
    # No flush per row: the rows go to the database together at the end. `parse`
    # refused repeats within the file, so no row's checks need the rows before it.
    with session.no_autoflush:
        for line in lines:
            try:
                events += await stored.write(line, caller, sealer, imported)
            except DomainError as refused:
                errors.append(row_error(line.row, column_of(refused.field), refused.message))
    if errors:
        raise RowsRefused(sorted(errors, key=lambda error: error["loc"][0]))
    if not dry_run:
        await revision.changed(session, *events, source=source)
    return imported


@dataclass
class _Stored:
    """The rows a file names, read a chunk of keys per statement rather than a row per
    statement (a file may hold 10,000 officers), and the writes that use them."""

    session: AsyncSession
    supporters: dict[str, SupporterRow]
    training: dict[tuple[str, str], TrainingRow]
    officers: dict[str, OfficerRow]

    @classmethod
    async def read(cls, session: AsyncSession, agency: str, lines: list[Line]) -> _Stored:
        supporter_ids = [line.supporter_id for line in lines if isinstance(line, SupporterLine)]
        personnel_ids = [line.personnel_id for line in lines if isinstance(line, OfficerLine)]
        supporters = await _rows(session, SupporterRow.supporter_id, supporter_ids)
        training = await _rows(session, TrainingRow.supporter_id, supporter_ids)
        officers = await _rows(
            session, OfficerRow.personnel_id, personnel_ids, OfficerRow.agency_id == agency
        )
        return cls(
            session,
            {row.supporter_id: row for row in supporters},
            {(row.supporter_id, row.area): row for row in training},
            {row.personnel_id: row for row in officers},
        )

    async def write(
        self, line: Line, caller: Principal, sealer: Sealer, imported: Imported
    ) -> list[Event]:
        """Write one row as its `PUT` would and count it; the events of what changed."""
        if isinstance(line, OfficerLine):
            stored = self.officers.get(line.personnel_id)
            _, written = write_officer(
                self.session, caller.agency, line.personnel_id, line.record, sealer, stored=stored
            )
            imported.officers.add(written)
            return [written.event] if written.event else []
        supporter, written = await write_supporter(
            self.session,
            caller,
            line.supporter_id,
            line.record,
            sealer,
            stored=self.supporters.get(line.supporter_id),
        )
        imported.supporters.add(written)
        events = [written.event] if written.event else []
        for area, record in line.training.items():
            stored = self.training.get((line.supporter_id, area.value))
            written = write_training(self.session, supporter, area, record, stored=stored)
            imported.training.add(written)
            events += [written.event] if written.event else []
        return events


async def _rows(session: AsyncSession, key, values: list[str], *where) -> list:
    """The rows whose `key` is one of `values`, `CHUNK` values per statement."""
    rows = []
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        rows += (await session.scalars(select(key.class_).where(key.in_(chunk), *where))).all()
    return rows
