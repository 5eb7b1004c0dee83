"""Assignments as each side may see them (rule 4, need to know).

A supporter sees their own assignments with the officer's identity, and every such
read is audited (rule 9); a coordinator sees the agency's assignments and how their
offers stand, without the officer's identity.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from shared import audit
from shared.auth import Role
from shared.ids import AgencyId, PersonnelId
from shared.routes import Runtime
from shared.vocab import Category, CheckInOutcome

from ..store import AssignmentRow, CheckInRow
from .deps import PROBLEMS, SupporterOrCoordinator

router = APIRouter(prefix="/v1", tags=["assignments"])


class CareState(enum.StrEnum):
    OPEN = "open"
    ENDED = "ended"


class OfferView(BaseModel):
    checkin_id: uuid.UUID
    sequence: int
    due_at: datetime
    window_closes_at: datetime
    status: str
    outcome: CheckInOutcome | None


class AssignmentView(BaseModel):
    assignment_id: uuid.UUID
    incident_id: uuid.UUID
    agency_id: AgencyId
    personnel_id: PersonnelId | None = Field(
        description="The officer to reach: shown to the assigned supporter only."
    )
    supporter_id: str
    supporter_agency_id: AgencyId
    category: Category | None
    care_for_carer: bool
    assigned_at: datetime
    care: CareState
    declined: bool
    current_offer: OfferView | None = Field(description="The latest offer, open or not.")


@router.get(
    "/assignments",
    response_model=list[AssignmentView],
    responses=PROBLEMS,
    summary="A supporter's own assignments (with the officer, audited), or a "
    "coordinator's agency's (without)",
)
async def list_assignments(
    caller: SupporterOrCoordinator, rt: Runtime, care: CareState | None = None
) -> list[AssignmentView]:
    mine = caller.role is Role.SUPPORTER
    query = select(AssignmentRow).order_by(AssignmentRow.assigned_at, AssignmentRow.assignment_id)
    if mine:
        query = query.where(
            AssignmentRow.supporter_id == caller.sub,
            AssignmentRow.supporter_agency_id == caller.agency,
        )
    else:
        query = query.where(AssignmentRow.agency_id == caller.agency)
    if care is not None:
        query = query.where(AssignmentRow.care_ended.is_(care is CareState.ENDED))
    async with rt.sessions() as session:
        rows = (await session.scalars(query)).all()
        latest: dict[str, CheckInRow] = {}
        if rows:
            offers = await session.scalars(
                select(CheckInRow).where(
                    CheckInRow.assignment_id.in_([r.assignment_id for r in rows])
                )
            )
            for offer in offers:
                held = latest.get(offer.assignment_id)
                if held is None or offer.sequence > held.sequence:
                    latest[offer.assignment_id] = offer
        if mine:
            for row in rows:
                audit.record_read(session, caller, "assignment", row.assignment_id)
            await session.commit()
    return [_view(row, latest.get(row.assignment_id), identified=mine) for row in rows]


def _view(row: AssignmentRow, offer: CheckInRow | None, *, identified: bool) -> AssignmentView:
    return AssignmentView(
        assignment_id=row.assignment_id,
        incident_id=row.incident_id,
        agency_id=row.agency_id,
        personnel_id=row.personnel_id if identified else None,
        supporter_id=row.supporter_id,
        supporter_agency_id=row.supporter_agency_id,
        category=row.category,
        care_for_carer=row.care_for_carer,
        assigned_at=row.assigned_at,
        care=CareState.ENDED if row.care_ended else CareState.OPEN,
        declined=row.declined,
        current_offer=offer_view(offer) if offer is not None else None,
    )


def offer_view(offer: CheckInRow) -> OfferView:
    return OfferView(
        checkin_id=offer.checkin_id,
        sequence=offer.sequence,
        due_at=offer.due_at,
        window_closes_at=offer.window_closes_at,
        status=offer.status,
        outcome=offer.outcome,
    )
