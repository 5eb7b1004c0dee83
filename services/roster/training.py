"""Supporters' training: a dated record per area, put by coordinators or an import."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.events import TrainingUpdated
from shared.vocab import TrainingArea

from . import revision
from .fields import Body
from .revision import Written
from .store import SupporterRow, TrainingRow
from .supporters import live_supporter


class TrainingRecord(Body):
    completed_on: date
    expires_on: date

    @field_validator("expires_on")
    @classmethod
    def _after_completion(cls, expires_on: date, info) -> date:
        completed_on = info.data.get("completed_on")
        if completed_on is not None and expires_on <= completed_on:
            raise ValueError("expires_on must be after completed_on")
        return expires_on


def write_training(
    session: AsyncSession,
    supporter: SupporterRow,
    area: TrainingArea,
    record: TrainingRecord,
    *,
    stored: TrainingRow | None,
) -> Written:
    """Record `supporter`'s training in `area`, whose row is `stored` (None: a first
    record; the caller reads it, so an import reads all of its rows at once). The one
    write behind `PUT /v1/supporters/{supporter_id}/training/{area}` and the import.
    Nothing is written, and no event is given, when the dates are the stored ones."""
    row = stored
    created = row is None
    if created:
        row = TrainingRow(
            supporter_id=supporter.supporter_id, area=area.value, agency_id=supporter.agency_id
        )
        session.add(row)
    elif (row.completed_on, row.expires_on) == (record.completed_on, record.expires_on):
        return Written(created=False, event=None)
    row.completed_on = record.completed_on
    row.expires_on = record.expires_on
    row.updated_at = datetime.now(UTC)
    return Written(
        created,
        TrainingUpdated(
            agency_id=supporter.agency_id,
            supporter_id=supporter.supporter_id,
            area=area,
            completed_on=record.completed_on,
            expires_on=record.expires_on,
        ),
    )


async def put_training(
    session: AsyncSession,
    caller: Principal,
    supporter_id: str,
    area: TrainingArea,
    record: TrainingRecord,
    *,
    source: str,
) -> Written:
    """`write_training` for a live supporter of the caller's agency, its event staged
    with a new revision."""
    supporter = await live_supporter(session, caller, supporter_id)
    stored = await session.get(TrainingRow, (supporter_id, area.value))
    written = write_training(session, supporter, area, record, stored=stored)
    if written.event is not None:
        await revision.changed(session, written.event, source=source)
    return written
