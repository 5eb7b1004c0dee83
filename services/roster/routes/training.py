"""Supporters' training: a dated record per area, and what expires soon (coordinators)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from shared import audit
from shared.events import SupporterId
from shared.ids import PersonnelId
from shared.routes import Runtime
from shared.vocab import TrainingArea

from .. import training
from ..expiry import Due
from ..reminders import renewals
from ..training import TrainingRecord
from .deps import PROBLEMS, AgencyQuery, Coordinator, own_agency
from .supporters import SupporterIdPath, TrainingView

router = APIRouter(prefix="/v1", tags=["training"])


class Expiring(BaseModel):
    """One thing a supporter must renew: their certification (`area` null) or a
    training area the agency requires."""

    supporter_id: SupporterId
    personnel_id: PersonnelId
    area: TrainingArea | None
    expires_on: date | None
    status: Due


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
        written = await training.put_training(
            session, caller, supporter_id, area, body, source=rt.source
        )
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
