"""Assignments matching could not fill, for the agency's coordinators to act on.

Each is an involved officer (or a supporter's care episode) that no peer fitted, with
the reason matching gave, until the incident is retracted. The list names no officer:
the coordinator learns that an incident needs them and why, and finds who through the
incident (`GET /v1/incidents/{incident_id}`, audited there). With nobody identified,
reading it is not audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from shared.routes import Runtime
from shared.vocab import Category, UnfilledReason

from ..assignment_store import MatchRow, Outcome
from .deps import PROBLEMS, AgencyQuery, Coordinator, own_agency

router = APIRouter(prefix="/v1", tags=["unfilled"])


class Unfilled(BaseModel):
    """One officer matching found no peer for; which officer is not said."""

    incident_id: uuid.UUID = Field(
        description="The incident; for care for the carers, the care episode."
    )
    category: Category | None = Field(description="Null for a care episode.")
    reason: UnfilledReason
    care_for_carer: bool = Field(description="A supporter's own care found no peer.")
    decided_at: datetime


@router.get(
    "/unfilled",
    response_model=list[Unfilled],
    responses=PROBLEMS,
    summary="The agency's assignments matching could not fill, newest first, naming no officer",
)
async def list_unfilled(
    caller: Coordinator,
    rt: Runtime,
    agency_id: AgencyQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Unfilled]:
    agency = own_agency(caller, agency_id)
    query = (
        select(
            MatchRow.incident_id,
            MatchRow.category,
            MatchRow.reasons,
            MatchRow.cares_for,
            MatchRow.decided_at,
        )
        .where(
            MatchRow.agency_id == agency,
            MatchRow.outcome == Outcome.UNFILLED.value,
            MatchRow.for_request.is_(False),  # waiting requests are listed by /v1/waiting
        )
        .order_by(MatchRow.decided_at.desc(), MatchRow.incident_id)
        .limit(limit)
    )
    async with rt.readers() as session:
        rows = (await session.execute(query)).all()
    return [
        Unfilled(
            incident_id=row.incident_id,
            category=row.category,
            reason=row.reasons[0],
            care_for_carer=row.cares_for is not None,
            decided_at=row.decided_at,
        )
        for row in rows
    ]
