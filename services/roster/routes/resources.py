"""The resource directory: where peers refer colleagues (EAP, clinicians, chaplains,
crisis lines, ...).

A resource belongs to one agency, written by that agency's coordinators, or to the
whole region, written by the role `regional`. Names, phone numbers and addresses here
are public service details, not personal data: they are kept in clear and reading them
is not audited (an officer looking up a crisis line is never tracked).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import or_, select

from shared import outbox
from shared.auth import Principal, Role, ensure_agency, require_role
from shared.events import ResourceId, ResourceUpdated
from shared.ids import AgencyId
from shared.problems import Problem
from shared.routes import Runtime
from shared.vocab import ResourceType

from ..fields import Body, Name, Phone, WebUrl
from ..http import PROBLEMS, AgencyQuery, own_agency
from ..store import ResourceRow

router = APIRouter(prefix="/v1", tags=["resources"])

Writer = Annotated[Principal, Depends(require_role(Role.COORDINATOR, Role.REGIONAL))]
Reader = Annotated[
    Principal,
    Depends(require_role(Role.COORDINATOR, Role.SUPPORTER, Role.REGIONAL, Role.OFFICER)),
]
DETAILS = ("name", "resource_type", "phone", "url", "crisis_line", "always_open", "active")


class ResourceRecord(Body):
    name: Name
    resource_type: ResourceType
    region_wide: bool = Field(
        default=False, description="For every agency of the region (role regional)."
    )
    agency_id: AgencyId | None = Field(
        default=None,
        description="An agency's resource: optional, the token's agency. Absent when region-wide.",
    )
    phone: Phone | None = None
    url: WebUrl | None = None
    crisis_line: bool = False
    always_open: bool = Field(default=False, description="Open 24 hours, 7 days a week.")
    active: bool = True

    @field_validator("agency_id")
    @classmethod
    def _not_both(cls, agency_id: str | None, info) -> str | None:
        if agency_id is not None and info.data.get("region_wide"):
            raise ValueError("a region-wide resource belongs to no agency")
        return agency_id


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


def _ensure_may_write(caller: Principal, agency_id: str | None) -> None:
    """Region-wide resources (`agency_id` None) are the role regional's; an agency's,
    its coordinators'."""
    if agency_id is None:
        if caller.role is not Role.REGIONAL:
            raise Problem(403, "Forbidden", "Region-wide resources need the role regional.")
        return
    if caller.role is not Role.COORDINATOR:
        raise Problem(403, "Forbidden", "An agency's resources need its coordinator.")
    ensure_agency(caller, agency_id)


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
    _ensure_may_write(caller, owner)
    wanted = body.model_dump(mode="json", include=set(DETAILS))
    async with rt.sessions() as session:
        row = await session.get(ResourceRow, resource_id)
        if row is None:
            row = ResourceRow(resource_id=resource_id, agency_id=owner)
            session.add(row)
            response.status_code = 201
        else:
            _ensure_may_write(caller, row.agency_id)
            if row.agency_id == owner and all(
                getattr(row, name) == value for name, value in wanted.items()
            ):
                return _view(row)
        row.agency_id = owner
        for name, value in wanted.items():
            setattr(row, name, value)
        row.updated_at = datetime.now(UTC)
        # Resources play no part in matching: no new revision, the index stays.
        outbox.add(
            session,
            ResourceUpdated(
                agency_id=owner or caller.agency,
                resource_id=resource_id,
                resource_type=body.resource_type,
                region_wide=owner is None,
                crisis_line=body.crisis_line,
                always_open=body.always_open,
                active=body.active,
            ),
            source=rt.source,
        )
        await session.commit()
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
