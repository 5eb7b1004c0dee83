"""Program coordinators as notifications reach them: put, read, list and remove (the
agency's coordinators).

Overdue offers and unfilled assignments are the coordinators' to act on (rule
3), so notify must reach them, with contact details that are sealed at rest like a
supporter's. Notify reads them through the service look-up (`recipients`), never from
an event: this directory publishes none, and matching does not read it (decision 30).
`coordinator_id` is unique in the region; by convention it is the `sub` of the
coordinator's token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel
from sqlalchemy import select

from shared import audit
from shared.ids import AgencyId, PersonnelId
from shared.routes import Runtime

from .. import coordinators
from ..coordinators import CoordinatorRecord
from ..personal import COORDINATOR, Personal
from ..store import CoordinatorRow
from .deps import PROBLEMS, AgencyQuery, Coordinator, Seals, own_agency

router = APIRouter(prefix="/v1", tags=["coordinators"])

# The shape of a supporter id, so that notify names either kind as its `recipient_id`.
CoordinatorId = PersonnelId
CoordinatorIdPath = Annotated[
    CoordinatorId,
    Path(description="The coordinator's id in Peerline; by convention their token's `sub`."),
]


class CoordinatorView(CoordinatorRecord):
    coordinator_id: CoordinatorId
    updated_at: datetime


class CoordinatorSummary(BaseModel):
    """A coordinator as listed: no contact details."""

    coordinator_id: CoordinatorId
    agency_id: AgencyId
    display_name: str
    timezone: str
    active: bool


def _view(row: CoordinatorRow, personal: Personal) -> CoordinatorView:
    return CoordinatorView(
        coordinator_id=row.coordinator_id,
        agency_id=row.agency_id,
        display_name=personal.display_name,
        contact=personal.contact,
        timezone=row.timezone,
        quiet_hours=row.quiet_hours,
        active=row.active,
        updated_at=row.updated_at,
    )


@router.put(
    "/coordinators/{coordinator_id}",
    response_model=CoordinatorView,
    responses={**PROBLEMS, 201: {"model": CoordinatorView, "description": "Created"}},
    summary="Create or replace a coordinator of the agency (contact details sealed at rest)",
)
async def put_coordinator(
    coordinator_id: CoordinatorIdPath,
    body: CoordinatorRecord,
    caller: Coordinator,
    rt: Runtime,
    sealer: Seals,
    response: Response,
) -> CoordinatorView:
    async with rt.sessions() as session:
        row, created = await coordinators.put_coordinator(
            session, caller, coordinator_id, body, sealer
        )
        await session.commit()
    if created:
        response.status_code = 201
    return _view(row, Personal(display_name=body.display_name, contact=body.contact))


@router.get(
    "/coordinators/{coordinator_id}",
    response_model=CoordinatorView,
    responses=PROBLEMS,
    summary="A coordinator with contact details (the read is audited)",
)
async def get_coordinator(
    coordinator_id: CoordinatorIdPath, caller: Coordinator, rt: Runtime, sealer: Seals
) -> CoordinatorView:
    async with rt.sessions() as session:
        row = await coordinators.coordinator(session, caller, coordinator_id)
        audit.record_read(session, caller, "coordinator", coordinator_id)
        await session.commit()
    return _view(row, sealer.open(coordinator_id, row.personal, kind=COORDINATOR))


@router.delete(
    "/coordinators/{coordinator_id}",
    status_code=204,
    responses=PROBLEMS,
    summary="Remove a coordinator, contact details and all",
)
async def delete_coordinator(
    coordinator_id: CoordinatorIdPath, caller: Coordinator, rt: Runtime
) -> Response:
    async with rt.sessions() as session:
        await coordinators.remove_coordinator(session, caller, coordinator_id)
        await session.commit()
    return Response(status_code=204)


@router.get(
    "/coordinators",
    response_model=list[CoordinatorSummary],
    responses=PROBLEMS,
    summary="The agency's coordinators, by id, without contact details (the read is audited)",
)
async def list_coordinators(
    caller: Coordinator, rt: Runtime, sealer: Seals, agency_id: AgencyQuery = None
) -> list[CoordinatorSummary]:
    agency = own_agency(caller, agency_id)
    query = (
        select(CoordinatorRow)
        .where(CoordinatorRow.agency_id == agency)
        .order_by(CoordinatorRow.coordinator_id)
    )
    async with rt.sessions() as session:
        rows = (await session.scalars(query)).all()
        audit.record_read(session, caller, "coordinator_list", agency)
        await session.commit()
    return [
        CoordinatorSummary(
            coordinator_id=row.coordinator_id,
            agency_id=row.agency_id,
            display_name=sealer.open(
                row.coordinator_id, row.personal, kind=COORDINATOR
            ).display_name,
            timezone=row.timezone,
            active=row.active,
        )
        for row in rows
    ]
