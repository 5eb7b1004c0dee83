"""Supporters' training: a dated record per area, and what expires soon (coordinators)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.events import SupporterId, TrainingUpdated
from shared.ids import PersonnelId
from shared.routes import Runtime
from shared.vocab import TrainingArea

from .. import revision
from ..expiry import Due
from ..fields import Body
from ..http import PROBLEMS, AgencyQuery, Coordinator, live_supporter, own_agency
from ..reminders import renewals
from ..revision import Written
from ..store import SupporterRow, TrainingRow
from .supporters import SupporterIdPath, TrainingView

router = APIRouter(prefix="/v1", tags=["training"])


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


class Expiring(BaseModel):
    """One thing a supporter must renew: their certification (`area` null) or a
    training area the agency requires."""

    supporter_id: SupporterId
    personnel_id: PersonnelId
    area: TrainingArea | None
    expires_on: date | None
    status: Due


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


@router.put(
    "/supporters/{supporter_id}/training/{area}",
    response_model=TrainingView,
    responses={**PROBLEMS, 201: {"model": TrainingView, "description": "Created"}},
    summary="Record a supporter's training in one area (publishes TrainingUpdated)",
)
async def put_training(
    supporter_id: SupporterIdPath,
    area: Annotated[TrainingArea, Path()],
    body: TrainingRecord,
    caller: Coordinator,
    rt: Runtime,
    response: Response,
) -> TrainingView:
    async with rt.sessions() as session:
        supporter = await live_supporter(session, caller, supporter_id)
        stored = await session.get(TrainingRow, (supporter_id, area.value))
        written = write_training(session, supporter, area, body, stored=stored)
        if written.event is not None:
            await revision.changed(session, written.event, source=rt.source)
            await session.commit()
    if written.created:
        response.status_code = 201
    return TrainingView(area=area, completed_on=body.completed_on, expires_on=body.expires_on)


@router.get(
    "/training/expiring",
    response_model=list[Expiring],
    responses=PROBLEMS,
    summary="The agency's active supporters whose certification or required training is "
    "missing, expired, or expires within `within_days` (the read is audited)",
)
async def list_expiring(
    caller: Coordinator,
    rt: Runtime,
    within_days: Annotated[int, Query(ge=0, le=366)] = 30,
    agency_id: AgencyQuery = None,
) -> list[Expiring]:
    agency = own_agency(caller, agency_id)
    today = datetime.now(UTC).date()
    async with rt.sessions() as session:
        found = await renewals(session, today, today + timedelta(days=within_days), agency)
        audit.record_read(session, caller, "training_expiring", agency)
        await session.commit()
    found = [
        Expiring(
            supporter_id=r.supporter_id,
            personnel_id=r.personnel_id,
            area=r.area,
            expires_on=r.expires_on,
            status=r.status,
        )
        for r in found
    ]
    return sorted(found, key=lambda e: (e.expires_on or date.min, e.supporter_id, e.area or ""))
