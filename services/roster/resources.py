"""The resource directory's writes: a resource put by its agency's coordinators or,
region-wide, by the role `regional`.

Resources play no part in matching: a change raises no new revision, and the index
stays.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.auth import Principal, Role, ensure_agency
from shared.errors import NotAllowed
from shared.events import ResourceUpdated
from shared.ids import AgencyId
from shared.vocab import ResourceType

from .fields import Body, Name, Phone, WebUrl
from .store import ResourceRow

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


def _ensure_may_write(caller: Principal, agency_id: str | None) -> None:
    """Region-wide resources (`agency_id` None) are the role regional's; an agency's,
    its coordinators'."""
    if agency_id is None:
        if caller.role is not Role.REGIONAL:
            raise NotAllowed("Region-wide resources need the role regional.")
        return
    if caller.role is not Role.COORDINATOR:
        raise NotAllowed("An agency's resources need its coordinator.")
    ensure_agency(caller, agency_id)


async def put_resource(
    session: AsyncSession,
    caller: Principal,
    resource_id: str,
    owner: str | None,
    record: ResourceRecord,
    *,
    source: str,
) -> tuple[ResourceRow, bool]:
    """Create or replace the resource of `owner` (None: region-wide), staging
    `ResourceUpdated` when it changes; and whether it was created."""
    _ensure_may_write(caller, owner)
    wanted = record.model_dump(mode="json", include=set(DETAILS))
    row = await session.get(ResourceRow, resource_id)
    created = row is None
    if created:
        row = ResourceRow(resource_id=resource_id, agency_id=owner)
        session.add(row)
    else:
        _ensure_may_write(caller, row.agency_id)
        if row.agency_id == owner and all(
            getattr(row, name) == value for name, value in wanted.items()
        ):
            return row, False
    row.agency_id = owner
    for name, value in wanted.items():
        setattr(row, name, value)
    row.updated_at = datetime.now(UTC)
    outbox.add(
        session,
        ResourceUpdated(
            agency_id=owner or caller.agency,
            resource_id=resource_id,
            resource_type=record.resource_type,
            region_wide=owner is None,
            crisis_line=record.crisis_line,
            always_open=record.always_open,
            active=record.active,
        ),
        source=source,
    )
    return row, created
