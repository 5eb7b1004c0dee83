"""Contacts: that support happened, never what was said (rule 1).

The body holds exactly what `ContactLogged` carries, as codes and buckets; anything
else is refused with nothing stored. A contact about a check-in is logged by the
supporter the assignment names, and closes the check-in if it is open: as `contacted`,
or as `declined` (no follow-ups: the officer said no, honoured at once). An
`unreachable` attempt leaves the offer open, for another try. A contact without a
check-in (the officer reached out, or the supporter did) names the officer by their
`personnel_id` in the supporter's agency; on the bus the officer is only `officer_ref`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from shared import outbox
from shared.events import ContactLogged
from shared.ids import PersonnelId
from shared.problems import Problem
from shared.routes import Runtime, invalid
from shared.vocab import (
    Channel,
    CheckInOutcome,
    ContactOutcome,
    DurationBucket,
    InitiatedBy,
    ResourceType,
)

from ..http import PROBLEMS, CareCases, Pseudonymise, Supporter
from ..store import OPEN, AssignmentRow, CheckInRow, ContactRow

router = APIRouter(prefix="/v1", tags=["contacts"])

CLOSES_AS = {
    ContactOutcome.SUPPORT_PROVIDED: CheckInOutcome.CONTACTED,
    ContactOutcome.FOLLOW_UP_PLANNED: CheckInOutcome.CONTACTED,
    ContactOutcome.DECLINED: CheckInOutcome.DECLINED,
}


class ContactBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkin_id: uuid.UUID | None = Field(
        default=None, description="The check-in this contact answers; null for one without."
    )
    personnel_id: PersonnelId | None = Field(
        default=None,
        description="Only for a contact without a check-in: the officer, in the supporter's "
        "agency. Never published; the bus knows the officer only as `officer_ref`.",
    )
    initiated_by: InitiatedBy
    channel: Channel
    duration_bucket: DurationBucket
    outcome: ContactOutcome
    resources_offered: list[ResourceType] = Field(default_factory=list, max_length=9)


class ContactLoggedView(BaseModel):
    contact_id: uuid.UUID
    checkin_id: uuid.UUID | None
    checkin_closed: bool = Field(description="Whether this contact closed the check-in.")


@router.post(
    "/contacts",
    status_code=201,
    response_model=ContactLoggedView,
    responses=PROBLEMS,
    summary="Log that a contact happened (publishes ContactLogged; may close the check-in)",
)
async def log_contact(
    body: ContactBody, caller: Supporter, rt: Runtime, care: CareCases, pseudonyms: Pseudonymise
) -> ContactLoggedView:
    now = datetime.now(UTC)
    async with rt.sessions() as session:
        assignment = None
        if body.checkin_id is not None:
            if body.personnel_id is not None:
                raise invalid("personnel_id", "a contact about a check-in names no officer")
            checkin = await session.get(CheckInRow, str(body.checkin_id))
            if checkin is None:
                raise Problem(404, "Not Found", "No check-in has this id.")
            assignment = await session.get(AssignmentRow, checkin.assignment_id)
            if (assignment.supporter_id, assignment.supporter_agency_id) != (
                caller.sub,
                caller.agency,
            ):
                raise Problem(403, "Forbidden", "This check-in is another supporter's.")
            agency_id, personnel_id = assignment.agency_id, assignment.personnel_id
        else:
            if body.personnel_id is None:
                raise invalid("personnel_id", "required for a contact without a check-in")
            if body.initiated_by is InitiatedBy.SCHEDULED_CHECKIN:
                raise invalid("initiated_by", "a scheduled check-in contact needs its checkin_id")
            agency_id, personnel_id = caller.agency, body.personnel_id
        contact = ContactRow(
            contact_id=str(uuid.uuid4()),
            agency_id=agency_id,
            supporter_id=caller.sub,
            supporter_agency_id=caller.agency,
            officer_ref=pseudonyms.officer_ref(agency_id, personnel_id),
            assignment_id=assignment.assignment_id if assignment else None,
            checkin_id=str(body.checkin_id) if body.checkin_id else None,
            initiated_by=body.initiated_by,
            channel=body.channel,
            duration_bucket=body.duration_bucket,
            outcome=body.outcome,
            resources_offered=sorted(set(body.resources_offered)),
            logged_at=now,
        )
        session.add(contact)
        outbox.add(
            session,
            ContactLogged(
                agency_id=agency_id,
                contact_id=contact.contact_id,
                supporter_id=caller.sub,
                officer_ref=contact.officer_ref,
                checkin_id=body.checkin_id,
                initiated_by=body.initiated_by,
                channel=body.channel,
                duration_bucket=body.duration_bucket,
                outcome=body.outcome,
                resources_offered=contact.resources_offered,
            ),
            source=rt.source,
        )
        closed = False
        if assignment is not None:
            assignment.last_activity_at = now
            if body.outcome in CLOSES_AS and checkin.status in OPEN:
                closed = await care.close(session, checkin.checkin_id, CLOSES_AS[body.outcome], now)
        await session.commit()
    return ContactLoggedView(
        contact_id=contact.contact_id, checkin_id=body.checkin_id, checkin_closed=closed
    )
