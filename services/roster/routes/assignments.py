"""How the supporter assigned to an officer reaches them: the last mile of care.

Only the assigned supporter learns which officer to reach, and how (rule 4).
The roster's own record of the assignment (`MatchRow`) decides: it must still be
`assigned` (not closed by the end of care, nor released by a retraction) and name the
caller as its supporter and the caller's agency as the supporter's. The officer may be
of another agency (the regional pool): this is the one route where a token reads
across the agency wall, and only for the officer of its own assignment. Every answer is
audited, per officer, without the details.

A supporter cared for as an officer (care for the carers) is reached by their own
officer record's details or, with none on file, by the name and contact details of
their supporter record.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.auth import Principal, Role, require_role
from shared.ids import AgencyId, PersonnelId
from shared.problems import Problem
from shared.routes import Runtime

from ..assignment_store import MatchRow, Outcome
from ..http import PROBLEMS, Seals
from ..personal import OfficerContact, OfficerPersonal, Sealer, Way
from ..store import OfficerRow, SupporterRow

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


def _assigned_to(match: MatchRow, caller: Principal) -> bool:
    return (
        match.outcome == Outcome.ASSIGNED.value
        and match.supporter_id == caller.sub
        and match.supporter_agency_id == caller.agency
    )


async def _details(session: AsyncSession, match: MatchRow, sealer: Sealer) -> OfficerPersonal:
    officer = await session.get(OfficerRow, (match.agency_id, match.personnel_id))
    personal = sealer.open_officer(
        match.agency_id, match.personnel_id, officer.personal if officer else None
    )
    if not personal.empty() or match.cares_for is None:
        return personal
    cared_for = await session.get(SupporterRow, match.cares_for)
    if cared_for is None or cared_for.personal is None:
        return personal
    theirs = sealer.open(cared_for.supporter_id, cared_for.personal)
    return OfficerPersonal(
        display_name=theirs.display_name,
        contact=OfficerContact(phone=theirs.contact.phone, email=theirs.contact.email),
    )


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
        match = await session.scalar(
            select(MatchRow).where(MatchRow.assignment_id == str(assignment_id)).limit(1)
        )
        if match is None:
            raise Problem(404, "Not Found", "No assignment has this id.")
        if not _assigned_to(match, caller):
            raise Problem(
                403, "Forbidden", "Only the supporter assigned, while the care goes on, may."
            )
        supporter = await session.get(SupporterRow, caller.sub)
        if supporter is None or supporter.removed_at is not None:
            raise Problem(403, "Forbidden", "This supporter is no longer on the roster.")
        personal = await _details(session, match, sealer)
        audit.record_read(session, caller, "officer_contact", match.personnel_id)
        await session.commit()
    return OfficerReach(
        assignment_id=assignment_id,
        agency_id=match.agency_id,
        personnel_id=match.personnel_id,
        display_name=personal.display_name,
        contact=OfficerContactView.model_validate(personal.contact.model_dump()),
    )
