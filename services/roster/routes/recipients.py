"""Recipients: how notify reaches a supporter or an agency's coordinators, for the role
`service` only (decision 30).

Contact details never travel on the bus: an event names a `supporter_id`, and notify
asks here, with a short-lived token of its own for the recipient's agency, for just
the details it needs to deliver one message (contact, time zone, quiet hours; no name,
no profile). People's roles cannot call these routes, so a leaked coordinator token
does not give out contact details in bulk; a service token stops at the agency wall
like every token; and every look-up is audited per recipient, never with the details.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from shared import audit
from shared.auth import Principal, Role, ensure_agency, require_role
from shared.events import SupporterId
from shared.ids import AgencyId
from shared.routes import Runtime

from ..fields import QuietHours
from ..personal import COORDINATOR, Contact
from ..store import CoordinatorRow
from ..supporters import live_supporter
from .deps import PROBLEMS, Seals

router = APIRouter(prefix="/v1", tags=["recipients"])

Service = Annotated[Principal, Depends(require_role(Role.SERVICE))]


class Recipient(BaseModel):
    """What a notification needs to reach one person, and no more."""

    recipient_id: SupporterId = Field(description="The supporter's or coordinator's id.")
    agency_id: AgencyId
    active: bool
    contact: Contact
    timezone: str = Field(description="The IANA time zone the quiet hours are in.")
    quiet_hours: QuietHours | None


@router.get(
    "/recipients/supporters/{supporter_id}",
    response_model=Recipient,
    responses=PROBLEMS,
    summary="How to reach a supporter (role service, the supporter's agency; audited)",
)
async def supporter_recipient(
    supporter_id: Annotated[SupporterId, Path(description="The supporter's id in Peerline")],
    caller: Service,
    rt: Runtime,
    sealer: Seals,
) -> Recipient:
    async with rt.sessions() as session:
        row = await live_supporter(session, caller, supporter_id)
        audit.record_read(session, caller, "supporter", supporter_id)
        await session.commit()
    return Recipient(
        recipient_id=supporter_id,
        agency_id=row.agency_id,
        active=row.active,
        contact=sealer.open(supporter_id, row.personal).contact,
        timezone=row.profile["availability"]["timezone"],
        quiet_hours=row.profile.get("quiet_hours"),
    )


@router.get(
    "/recipients/coordinators",
    response_model=list[Recipient],
    responses=PROBLEMS,
    summary="How to reach the agency's active coordinators (role service; audited)",
)
async def coordinator_recipients(
    agency_id: Annotated[AgencyId, Query(description="The agency: the token's.")],
    caller: Service,
    rt: Runtime,
    sealer: Seals,
) -> list[Recipient]:
    ensure_agency(caller, agency_id)
    query = (
        select(CoordinatorRow)
        .where(CoordinatorRow.agency_id == agency_id, CoordinatorRow.active.is_(True))
        .order_by(CoordinatorRow.coordinator_id)
    )
    async with rt.sessions() as session:
        rows = (await session.scalars(query)).all()
        for row in rows:
            audit.record_read(session, caller, "coordinator", row.coordinator_id)
        await session.commit()
    return [
        Recipient(
            recipient_id=row.coordinator_id,
            agency_id=row.agency_id,
            active=row.active,
            contact=sealer.open(row.coordinator_id, row.personal, kind=COORDINATOR).contact,
            timezone=row.timezone,
            quiet_hours=row.quiet_hours,
        )
        for row in rows
    ]
