"""The agency's check-ins for its coordinators: what is open, overdue or closed. No
officer is named here; the supporter's task is what the coordinator follows up
(rule 3: silence never escalates past the coordinator)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from shared.routes import Runtime
from shared.vocab import CheckInOutcome

from ..domain import OPEN, Status
from ..store import CheckInRow
from .deps import PROBLEMS, Coordinator

router = APIRouter(prefix="/v1", tags=["checkins"])


class Wanted(enum.StrEnum):
    OPEN = "open"
    OVERDUE = "overdue"
    CLOSED = "closed"


STATUSES = {
    Wanted.OPEN: OPEN,
    Wanted.OVERDUE: (Status.OVERDUE,),
    Wanted.CLOSED: (Status.CLOSED,),
}


class CheckInView(BaseModel):
    checkin_id: uuid.UUID
    assignment_id: uuid.UUID
    supporter_id: str
    sequence: int
    due_at: datetime
    window_closes_at: datetime
    status: Status
    outcome: CheckInOutcome | None
    closed_at: datetime | None


@router.get(
    "/checkins",
    response_model=list[CheckInView],
    responses=PROBLEMS,
    summary="The agency's check-ins by status, soonest due first",
)
async def list_checkins(
    caller: Coordinator,
    rt: Runtime,
    status: Wanted | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[CheckInView]:
    query = select(CheckInRow).where(CheckInRow.agency_id == caller.agency)
    if status is not None:
        query = query.where(CheckInRow.status.in_(STATUSES[status]))
    query = query.order_by(CheckInRow.due_at, CheckInRow.checkin_id).limit(limit)
    async with rt.readers() as session:
        rows = (await session.scalars(query)).all()
    return [
        CheckInView(
            checkin_id=r.checkin_id,
            assignment_id=r.assignment_id,
            supporter_id=r.supporter_id,
            sequence=r.sequence,
            due_at=r.due_at,
            window_closes_at=r.window_closes_at,
            status=r.status,
            outcome=r.outcome,
            closed_at=r.closed_at,
        )
        for r in rows
    ]
