"""How the supporter assigned to an officer reaches them (`officer_reach`): only that
supporter, while the care goes on (rule 4). The one route where a token reads across
the agency wall, for the officer of its own assignment. Every answer is audited, per
officer, without the details.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from shared import audit
from shared.auth import Principal, Role, require_role
from shared.ids import AgencyId, PersonnelId
from shared.routes import Runtime

from .. import officer_reach
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
