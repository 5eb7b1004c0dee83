"""Program coordinators as notifications reach them: put, find and remove.

`coordinator_id` is unique in the region, so an id another agency holds is refused,
never taken over. Contact details are sealed at rest like a supporter's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, ensure_agency
from shared.errors import NotFound
from shared.ids import AgencyId

from .fields import Body, Name, QuietHours, TimeZone
from .personal import COORDINATOR, Contact, Personal, Sealer
from .store import CoordinatorRow


class CoordinatorRecord(Body):
    """The body of `PUT /v1/coordinators/{coordinator_id}`: a whole record."""

    agency_id: AgencyId = Field(description="The coordinator's agency: the token's.")
    display_name: Name = Field(description="Sealed at rest, with contact.")
    contact: Contact = Field(default_factory=Contact)
    timezone: TimeZone = Field(default="UTC", description="An IANA time zone.")
    quiet_hours: QuietHours | None = Field(
        default=None, description="No non-urgent notifications then, in `timezone`."
    )
    active: bool = Field(default=True, description="Inactive coordinators are not notified.")


async def coordinator(
    session: AsyncSession, caller: Principal, coordinator_id: str
) -> CoordinatorRow:
    """The coordinator, if of the caller's agency."""
    row = await session.get(CoordinatorRow, coordinator_id)
    if row is None:
        raise NotFound("No coordinator has this id.")
    ensure_agency(caller, row.agency_id)
    return row


async def put_coordinator(
    session: AsyncSession,
    caller: Principal,
    coordinator_id: str,
    record: CoordinatorRecord,
    sealer: Sealer,
) -> tuple[CoordinatorRow, bool]:
    """Create or replace the coordinator, their details sealed; and whether created."""
    ensure_agency(caller, record.agency_id)
    await sealer.check(record.contact)
    personal = Personal(display_name=record.display_name, contact=record.contact)
    row = await session.get(CoordinatorRow, coordinator_id)
    created = row is None
    if created:
        row = CoordinatorRow(coordinator_id=coordinator_id, agency_id=record.agency_id)
        session.add(row)
    ensure_agency(caller, row.agency_id)  # another agency's id is not taken over
    row.active = record.active
    row.timezone = record.timezone
    row.quiet_hours = record.model_dump(mode="json")["quiet_hours"]
    row.personal = sealer.seal(coordinator_id, personal, kind=COORDINATOR)
    row.updated_at = datetime.now(UTC)
    return row, created


async def remove_coordinator(session: AsyncSession, caller: Principal, coordinator_id: str) -> None:
    """Delete the coordinator, contact details and all."""
    await session.delete(await coordinator(session, caller, coordinator_id))
