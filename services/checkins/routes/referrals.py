"""Referrals: a supporter points a colleague they have spoken with to a resource of the
directory (EAP, clinician, chaplain, ...).

A referral is codes and ids only, never why or what was said (rule 1): the
body holds exactly what `ReferralMade` carries, anything else is refused with nothing
stored. It belongs to a contact, and only the supporter who logged that contact may
add one (rule 4). The resource must be one the officer's agency may use, its own or
a region-wide one, and still active: check-ins knows the directory from the roster's
events (`resources`), so a resource the roster has only just added may be refused for
a moment.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from shared import outbox
from shared.events import ReferralMade, ResourceId
from shared.problems import Problem
from shared.routes import Runtime, invalid
from shared.vocab import ResourceType, Urgency

from ..http import PROBLEMS, Supporter
from ..store import AssignmentRow, ContactRow, ReferralRow, ResourceRow

router = APIRouter(prefix="/v1", tags=["referrals"])


class ReferralBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: uuid.UUID
    resource_id: ResourceId
    urgency: Urgency


class ReferralMadeView(BaseModel):
    referral_id: uuid.UUID
    resource_type: ResourceType


@router.post(
    "/referrals",
    status_code=201,
    response_model=ReferralMadeView,
    responses=PROBLEMS,
    summary="Refer the officer of a contact to a resource (publishes ReferralMade)",
)
async def make_referral(body: ReferralBody, caller: Supporter, rt: Runtime) -> ReferralMadeView:
    now = datetime.now(UTC)
    async with rt.sessions() as session:
        contact = await session.get(ContactRow, str(body.contact_id))
        if contact is None:
            raise Problem(404, "Not Found", "No contact has this id.")
        if (contact.supporter_id, contact.supporter_agency_id) != (caller.sub, caller.agency):
            raise Problem(403, "Forbidden", "This contact is another supporter's.")
        resource = await session.get(ResourceRow, body.resource_id)
        if resource is None or not (
            resource.region_wide or resource.agency_id == contact.agency_id
        ):
            # Another agency's own resources are as unknown here as ids never used.
            raise invalid("resource_id", "no resource of the officer's agency or the region")
        if not resource.active:
            raise invalid("resource_id", "the resource is retired")
        referral = ReferralRow(
            referral_id=str(uuid.uuid4()),
            contact_id=contact.contact_id,
            agency_id=contact.agency_id,
            resource_id=resource.resource_id,
            resource_type=resource.resource_type,
            urgency=body.urgency,
            made_at=now,
        )
        session.add(referral)
        outbox.add(
            session,
            ReferralMade(
                agency_id=contact.agency_id,
                referral_id=referral.referral_id,
                contact_id=contact.contact_id,
                resource_type=resource.resource_type,
                resource_id=resource.resource_id,
                urgency=body.urgency,
            ),
            source=rt.source,
        )
        if contact.assignment_id is not None:
            # Care goes on: the episode is kept for the care window from now (rule 8).
            assignment = await session.get(AssignmentRow, contact.assignment_id)
            assignment.last_activity_at = now
        await session.commit()
    return ReferralMadeView(referral_id=referral.referral_id, resource_type=resource.resource_type)
