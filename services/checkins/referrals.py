"""Making a referral: a supporter points a colleague they have spoken with to a
resource of the directory (EAP, clinician, chaplain, ...).

A referral is codes and ids only, never why or what was said (rule 1). It belongs to a
contact, and only the supporter who logged that contact may add one (rule 4). The
resource must be one the officer's agency may use (`domain.ensure_referable`):
check-ins knows the directory from the roster's events (`resources`), so a resource
the roster has only just added may be refused for a moment.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.errors import NotFound
from shared.events import ReferralMade
from shared.tokens import Principal
from shared.vocab import Urgency

from .domain import ensure_own, ensure_referable
from .store import AssignmentRow, ContactRow, ReferralRow, ResourceRow


async def refer(
    session: AsyncSession,
    caller: Principal,
    contact_id: uuid.UUID,
    resource_id: str,
    urgency: Urgency,
    *,
    source: str,
) -> ReferralRow:
    """Store the referral and stage `ReferralMade`."""
    now = datetime.now(UTC)
    contact = await session.get(ContactRow, str(contact_id))
    if contact is None:
        raise NotFound("No contact has this id.")
    ensure_own(caller, contact, "This contact is another supporter's.")
    resource = await session.get(ResourceRow, resource_id)
    ensure_referable(resource, contact.agency_id)
    referral = ReferralRow(
        referral_id=str(uuid.uuid4()),
        contact_id=contact.contact_id,
        agency_id=contact.agency_id,
        resource_id=resource.resource_id,
        resource_type=resource.resource_type,
        urgency=urgency,
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
            urgency=urgency,
        ),
        source=source,
    )
    if contact.assignment_id is not None:
        # Care goes on: the episode is kept for the care window from now (rule 8).
        assignment = await session.get(AssignmentRow, contact.assignment_id)
        assignment.last_activity_at = now
    return referral
