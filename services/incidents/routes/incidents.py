"""`POST /v1/incidents`, `GET /v1/incidents/{id}` and the retraction: thin, the intake
use case does the work."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.auth import Principal, ensure_agency
from shared.events import Involved
from shared.routes import Runtime
from shared.vocab import Category, RetractionReason

from .. import intake
from ..domain import IncidentReport, Status
from ..store import IncidentRow
from .deps import PROBLEMS, Coordinator, Ingest, Retractor, Writer

router = APIRouter(prefix="/v1")

IncidentIdPath = Annotated[uuid.UUID, Path(description="The id Peerline gave the incident")]


class IntakeAnswer(BaseModel):
    incident_id: uuid.UUID
    status: Status


class IncidentView(BaseModel):
    incident_id: uuid.UUID
    agency_id: str
    external_id: str
    category: Category
    occurred_at: datetime
    involved: list[Involved]
    status: str
    retraction_reason: RetractionReason | None
    reported_at: datetime
    updated_at: datetime


class Retraction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: RetractionReason = RetractionReason.ENTERED_IN_ERROR


class RetractionAnswer(BaseModel):
    incident_id: uuid.UUID
    status: str


@router.post(
    "/incidents",
    status_code=202,
    response_model=IntakeAnswer,
    responses=PROBLEMS,
    summary="Report a critical incident",
)
async def report_incident(report: IncidentReport, caller: Ingest, writer: Writer) -> IntakeAnswer:
    if report.agency_id is not None:
        ensure_agency(caller, report.agency_id)
    result = await writer.submit(caller.agency, report)
    return IntakeAnswer(incident_id=result.incident_id, status=result.status)


async def _owned(session: AsyncSession, caller: Principal, incident_id: uuid.UUID) -> IncidentRow:
    """The incident, if the caller's agency owns it (404 / 403 otherwise)."""
    row = await intake.incident(session, incident_id)
    ensure_agency(caller, row.agency_id)
    return row


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentView,
    responses=PROBLEMS,
    summary="An incident as kept (coordinators of its agency)",
)
async def get_incident(
    incident_id: IncidentIdPath, caller: Coordinator, rt: Runtime
) -> IncidentView:
    async with rt.sessions() as session:
        row = await _owned(session, caller, incident_id)
        audit.record_read(session, caller, "incident", row.incident_id)
        await session.commit()
    return IncidentView(
        incident_id=uuid.UUID(row.incident_id),
        agency_id=row.agency_id,
        external_id=row.external_id,
        category=Category(row.category),
        occurred_at=row.occurred_at,
        involved=[Involved.model_validate(i) for i in row.involved],
        status="retracted" if row.retraction_reason else "active",
        retraction_reason=row.retraction_reason,
        reported_at=row.reported_at,
        updated_at=row.updated_at,
    )


@router.post(
    "/incidents/{incident_id}/retraction",
    response_model=RetractionAnswer,
    responses=PROBLEMS,
    summary="Retract an incident entered in error (publishes IncidentRetracted once)",
)
async def retract_incident(
    incident_id: IncidentIdPath, body: Retraction, caller: Retractor, rt: Runtime
) -> RetractionAnswer:
    async with rt.sessions() as session:
        row = await _owned(session, caller, incident_id)
    await intake.retract(rt, row, body.reason)
    return RetractionAnswer(incident_id=incident_id, status="retracted")
