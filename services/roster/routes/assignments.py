"""How the supporter assigned to an officer reaches them (`officer_reach`): only that
supporter, while the care goes on (rule 4). The one route where a token reads across
the agency wall, for the officer of its own assignment. Every answer is audited, per
officer, without the details.

The same supporter acknowledges the assignment ("I'll reach them by ...",
`acknowledging`) before its deadline, or it moves to another supporter.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from shared import audit
from shared.auth import Principal, Role, require_role
from shared.ids import AgencyId, PersonnelId
from shared.routes import Runtime
from shared.vocab import Reach

from .. import acknowledging, officer_reach
from ..assignment_store import MatchRow, RequestRow
from ..fields import Body
from ..personal import Way
from .deps import PROBLEMS, Seals

router = APIRouter(prefix="/v1", tags=["assignments"])

Supporter = Annotated[Principal, Depends(require_role(Role.SUPPORTER))]


class OfficerContactView(BaseModel):
    phone: str | None
    email: str | None
    preferred: Way | None


class OfficerReach(BaseModel):
    """Who the assigned supporter reaches, and how; a field is null when not on file."""

    assignment_id: uuid.UUID
    agency_id: AgencyId = Field(description="The officer's agency (may not be the caller's).")
    personnel_id: PersonnelId
    display_name: str | None
    contact: OfficerContactView


@router.get(
    "/assignments/{assignment_id}/officer",
    response_model=OfficerReach,
    responses=PROBLEMS
    | {403: {"description": "Not the caller's assignment, or its care has ended"}},
    summary="How to reach the officer of one assignment (only its assigned supporter; the "
    "read is audited)",
)
async def officer_of_assignment(
    assignment_id: Annotated[uuid.UUID, Path(description="The assignment (PeerAssigned)")],
    caller: Supporter,
    rt: Runtime,
    sealer: Seals,
) -> OfficerReach:
    async with rt.sessions() as session:
        match, personal = await officer_reach.officer_to_reach(
            session, caller, str(assignment_id), sealer
        )
        audit.record_read(session, caller, "officer_contact", match.personnel_id)
        await session.commit()
    return OfficerReach(
        assignment_id=assignment_id,
        agency_id=match.agency_id,
        personnel_id=match.personnel_id,
        display_name=personal.display_name,
        contact=OfficerContactView.model_validate(personal.contact.model_dump()),
    )


class Acknowledgment(BaseModel):
    """Where the assignment's acknowledgment stands, for its supporter."""

    assignment_id: uuid.UUID
    for_request: bool = Field(description="An officer asked for a peer (no incident).")
    reach: Reach | None = Field(description="How the officer asked to be reached (requests).")
    acknowledge_by: datetime | None = Field(description="When it moves on if not taken.")
    acknowledged_at: datetime | None
    reach_by: datetime | None = Field(description="When the supporter said they would reach.")


class AcknowledgeBody(Body):
    reach_by: datetime = Field(description="When you will reach the officer (at most 72 h).")


AssignmentId = Annotated[uuid.UUID, Path(description="The assignment (PeerAssigned)")]


async def _acknowledgment(session, row: MatchRow) -> Acknowledgment:
    reach = None
    if row.for_request:
        request = await session.get(RequestRow, row.incident_id)
        reach = request.reach if request is not None else None
    return Acknowledgment(
        assignment_id=row.assignment_id,
        for_request=row.for_request,
        reach=reach,
        acknowledge_by=row.acknowledge_by,
        acknowledged_at=row.acknowledged_at,
        reach_by=row.reach_by,
    )


@router.get(
    "/assignments/{assignment_id}/acknowledgment",
    response_model=Acknowledgment,
    responses=PROBLEMS,
    summary="Whether the caller has taken their assignment, and by when they must",
)
async def acknowledgment(
    assignment_id: AssignmentId, caller: Supporter, rt: Runtime
) -> Acknowledgment:
    async with rt.readers() as session:
        row = await acknowledging.current(session, caller, assignment_id)
        return await _acknowledgment(session, row)


@router.post(
    "/assignments/{assignment_id}/acknowledge",
    response_model=Acknowledgment,
    responses=PROBLEMS,
    summary='Take the assignment: "I\'ll reach them by ..." (stops it moving on)',
)
async def acknowledge(
    assignment_id: AssignmentId, body: AcknowledgeBody, caller: Supporter, rt: Runtime
) -> Acknowledgment:
    async with rt.sessions() as session:
        row = await acknowledging.acknowledge(
            session, caller, assignment_id, body.reach_by, source=rt.source
        )
        await session.commit()
        return await _acknowledgment(session, row)
