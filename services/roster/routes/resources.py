"""The resource directory: where peers refer colleagues (EAP, clinicians, chaplains,
crisis lines, ...).

A resource belongs to one agency, written by that agency's coordinators, or to the
whole region, written by the role `regional`. Names, phone numbers and addresses here
are public service details, not personal data: they are kept in clear and reading them
is not audited (an officer looking up a crisis line is never tracked).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import or_, select

from shared.auth import Principal, Role, require_role
from shared.events import ResourceId
from shared.ids import AgencyId
from shared.routes import Runtime
from shared.vocab import ResourceType

from .. import resources
from ..resources import DETAILS, ResourceRecord
from ..store import ResourceRow
from .deps import PROBLEMS, AgencyQuery, own_agency

router = APIRouter(prefix="/v1", tags=["resources"])

Writer = Annotated[Principal, Depends(require_role(Role.COORDINATOR, Role.REGIONAL))]
Reader = Annotated[
    Principal,
    Depends(require_role(Role.COORDINATOR, Role.SUPPORTER, Role.REGIONAL, Role.OFFICER)),
]


class ResourceView(BaseModel):
    resource_id: ResourceId
    agency_id: AgencyId | None = Field(description="Null: region-wide.")
    region_wide: bool
    name: str
    resource_type: ResourceType
    phone: str | None
    url: str | None
    crisis_line: bool
    always_open: bool
    active: bool
    updated_at: datetime


def _view(row: ResourceRow) -> ResourceView:
    return ResourceView(
        resource_id=row.resource_id,
        agency_id=row.agency_id,
        region_wide=row.agency_id is None,
        updated_at=row.updated_at,
        **{name: getattr(row, name) for name in DETAILS},
    )


@router.put(
    "/resources/{resource_id}",
    response_model=ResourceView,
    responses={**PROBLEMS, 201: {"model": ResourceView, "description": "Created"}},
    summary="Create or replace a resource (coordinator: the agency's; regional: "
    "region-wide); publishes ResourceUpdated when it changes",
)
async def put_resource(
    resource_id: Annotated[ResourceId, Path()],
    body: ResourceRecord,
    caller: Writer,
    rt: Runtime,
    response: Response,
) -> ResourceView:
    owner = None if body.region_wide else own_agency(caller, body.agency_id)
    async with rt.sessions() as session:
        row, created = await resources.put_resource(
            session, caller, resource_id, owner, body, source=rt.source
        )
        await session.commit()
    if created:
        response.status_code = 201
    return _view(row)


@router.get(
    "/resources",
    response_model=list[ResourceView],
    responses=PROBLEMS,
    summary="The agency's resources and the region's, crisis lines first",
)
async def list_resources(
    caller: Reader,
    rt: Runtime,
    agency_id: AgencyQuery = None,
    resource_type: ResourceType | None = None,
    crisis_line: bool | None = None,
    include_inactive: Annotated[bool, Query(description="Retired resources too.")] = False,
) -> list[ResourceView]:
    agency = own_agency(caller, agency_id)
    query = select(ResourceRow).where(
        or_(ResourceRow.agency_id == agency, ResourceRow.agency_id.is_(None))
    )
    if resource_type is not None:
        query = query.where(ResourceRow.resource_type == resource_type.value)
    if crisis_line is not None:
        query = query.where(ResourceRow.crisis_line.is_(crisis_line))
    if not include_inactive:
        query = query.where(ResourceRow.active.is_(True))
    async with rt.readers() as session:
        rows = (await session.scalars(query)).all()
    ordered = sorted(rows, key=lambda r: (not r.crisis_line, r.name.casefold(), r.resource_id))
    return [_view(row) for row in ordered]
