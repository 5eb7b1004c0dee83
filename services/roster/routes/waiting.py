"""Assignments nobody acknowledged in time, for the agency's coordinators to give to a
supporter by hand (`moving`). An officer's request here says only that it is waiting
and since when: never who asked."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from shared.events import SupporterId
from shared.routes import Provided, Runtime
from shared.vocab import EscalationReason

from .. import moving
from ..assigning import Assigner
from ..fields import Body
from .deps import PROBLEMS, AgencyQuery, Coordinator, own_agency

router = APIRouter(prefix="/v1", tags=["waiting"])


class Waiting(BaseModel):
    assignment_id: uuid.UUID
    for_request: bool = Field(description="An officer's request (who asked is not said).")
    reason: EscalationReason
    moves: int = Field(description="How often it moved before it came to you.")
    escalated_at: datetime


class GiveBody(Body):
    supporter_id: SupporterId = Field(description="One of your agency's supporters.")


class Given(BaseModel):
    assignment_id: uuid.UUID
    supporter_id: SupporterId


@router.get(
    "/waiting",
    response_model=list[Waiting],
    responses=PROBLEMS,
    summary="The agency's assignments nobody took in time, oldest first, naming no officer",
)
async def list_waiting(
    caller: Coordinator, rt: Runtime, agency_id: AgencyQuery = None
) -> list[Waiting]:
    agency = own_agency(caller, agency_id)
    async with rt.readers() as session:
        rows = await moving.waiting(session, agency)
    return [
        Waiting(
            assignment_id=row.assignment_id,
            for_request=row.for_request,
            reason=row.escalation,
            moves=row.moves,
            escalated_at=row.escalated_at,
        )
        for row in rows
    ]


@router.post(
    "/waiting/{assignment_id}/give",
    response_model=Given,
    responses=PROBLEMS,
    summary="Give a waiting assignment to one of the agency's supporters",
)
async def give(
    assignment_id: Annotated[uuid.UUID, Path(description="A waiting assignment")],
    body: GiveBody,
    caller: Coordinator,
    rt: Runtime,
    assigner: Provided[Assigner],
) -> Given:
    async with rt.sessions() as session:
        row = await moving.give(assigner, session, caller, assignment_id, body.supporter_id)
        await session.commit()
    return Given(assignment_id=row.assignment_id, supporter_id=row.supporter_id)
