"""A roster CSV imported in one go, all or nothing (coordinators; decision 21).

Every row is checked before anything is kept: first against the records' models
(`roster_csv`), then by the same writes the `PUT` routes make (`write_supporter`,
`write_training`, `write_officer`), inside one transaction that is rolled back if any
row is refused. So a file is imported whole or not at all, with an error for every bad
row, and a coordinator fixes the file and sends it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.events import Event
from shared.ids import AgencyId
from shared.problems import Problem
from shared.routes import Runtime

from .. import revision
from ..http import PROBLEMS, AgencyQuery, Coordinator, Seals, own_agency
from ..personal import Sealer
from ..revision import Written
from ..store import CHUNK, OfficerRow, SupporterRow, TrainingRow
from .officers import write_officer
from .roster_csv import Line, OfficerLine, SupporterLine, parse, row_error
from .supporters import write_supporter
from .training import write_training

router = APIRouter(prefix="/v1", tags=["imports"])

PATH = "/v1/imports"
MAX_BYTES = 8 << 20
"""8 MiB, where every other route takes 1 MiB (`PEERLINE_MAX_BODY_BYTES`): an agency of
10,000 officers is a file of up to about 1 MB, and the largest agencies have four times
that (decision 21)."""

EXAMPLE = """\
kind,supporter_id,personnel_id,display_name,email,weekly,unit,supervisor_id
supporter,S-7,PSO-7,Alex Rivera,alex@example.org,mon 08:00-18:00; tue 08:00-18:00,North,
officer,,B1234,,,,North,SGT-1
officer,,SGT-1,,,,North,
"""
CSV_BODY = {
    "requestBody": {
        "required": True,
        "description": "The roster CSV (docs/roster.md): UTF-8, a header row, one row per person.",
        "content": {"text/csv": {"schema": {"type": "string"}, "example": EXAMPLE}},
    }
}


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


@router.post(
    "/imports",
    response_model=Imported,
    responses=PROBLEMS,
    openapi_extra=CSV_BODY,
    summary="Import supporters, their training and officers from a CSV, all or nothing "
    "(publishes an event for each record that changed)",
)
async def import_roster(
    request: Request,
    caller: Coordinator,
    rt: Runtime,
    sealer: Seals,
    agency_id: AgencyQuery = None,
    dry_run: Annotated[
        bool, Query(description="Check every row, as an import would, and keep nothing.")
    ] = False,
) -> Imported:
    agency = own_agency(caller, agency_id)
    lines, errors = parse(await request.body(), agency)
    imported = Imported(agency_id=agency, dry_run=dry_run)
    events: list[Event] = []
    async with rt.sessions() as session:
        stored = await _Stored.read(session, agency, lines)
        # No flush per row: the rows go to the database together at the end. `parse`
        # refused repeats within the file, so no row's checks need the rows before it.
        with session.no_autoflush:
            for line in lines:
                try:
                    events += await stored.write(line, caller, sealer, imported)
                except Problem as refused:
                    errors += _row_errors(line.row, refused)
        if errors:
            raise Problem(
                422,
                "Unprocessable Content",
                "Some rows are not valid; nothing was imported.",
                errors=sorted(errors, key=lambda error: error["loc"][0]),
            )
        if not dry_run:
            await revision.changed(session, *events, source=rt.source)
            await session.commit()
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


def _row_errors(row: int, refused: Problem) -> list[dict]:
    """A write's refusal (another agency's supporter, a personnel_id taken, an officer
    their own supervisor) as errors of the row."""
    found = refused.extra.get("errors") or [{"loc": [], "msg": refused.detail}]
    return [row_error(row, e["loc"][0] if e["loc"] else None, e["msg"]) for e in found]
