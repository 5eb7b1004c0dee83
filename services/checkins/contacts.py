"""Logging a contact: that support happened, never what was said (rule 1).

The report holds exactly what `ContactLogged` carries, as codes and buckets; anything
else is refused with nothing stored. A contact about a check-in is logged by the
supporter the assignment names, and closes the check-in if it is open: as `contacted`,
or as `declined` (no follow-ups: the officer said no, honoured at once). An
`unreachable` attempt leaves the offer open, for another try. A contact without a
check-in (the officer reached out, or the supporter did) names the officer by their
`personnel_id` in the supporter's agency, an officer the roster knows there or one an
assignment names (`officers`); on the bus the officer is only `officer_ref`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.errors import Invalid, NotFound
from shared.events import ContactLogged
from shared.ids import PersonnelId
from shared.pseudonyms import Pseudonyms
from shared.tokens import Principal
from shared.vocab import Channel, ContactOutcome, DurationBucket, InitiatedBy, ResourceType

from . import officers
from .care import Care
from .domain import CLOSES_AS, OPEN, check_contact, ensure_own
from .store import AssignmentRow, CheckInRow, ContactRow


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


@dataclass(frozen=True)
class Logged:
    contact_id: str
    checkin_closed: bool


async def log(
    session: AsyncSession,
    caller: Principal,
    report: ContactBody,
    *,
    care: Care,
    pseudonyms: Pseudonyms,
    source: str,
) -> Logged:
    """Store the contact, stage `ContactLogged`, and close its check-in if it is open."""
    now = care.clock()
    check_contact(report.checkin_id, report.personnel_id, report.initiated_by)
    assignment = checkin = None
    if report.checkin_id is not None:
        checkin = await session.get(CheckInRow, str(report.checkin_id))
        if checkin is None:
            raise NotFound("No check-in has this id.")
        assignment = await session.get(AssignmentRow, checkin.assignment_id)
        ensure_own(caller, assignment, "This check-in is another supporter's.")
        agency_id, personnel_id = assignment.agency_id, assignment.personnel_id
    else:
        agency_id, personnel_id = caller.agency, report.personnel_id
    ref = pseudonyms.officer_ref(agency_id, personnel_id)
    if checkin is None and not await officers.is_known(session, agency_id, personnel_id, ref):
        raise Invalid("personnel_id", "is not an officer the roster knows in this agency")
    contact = ContactRow(
        contact_id=str(uuid.uuid4()),
        agency_id=agency_id,
        supporter_id=caller.sub,
        supporter_agency_id=caller.agency,
        officer_ref=ref,
        assignment_id=assignment.assignment_id if assignment else None,
        checkin_id=str(report.checkin_id) if report.checkin_id else None,
        initiated_by=report.initiated_by,
        channel=report.channel,
        duration_bucket=report.duration_bucket,
        outcome=report.outcome,
        resources_offered=sorted(set(report.resources_offered)),
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
            checkin_id=report.checkin_id,
            initiated_by=report.initiated_by,
            channel=report.channel,
            duration_bucket=report.duration_bucket,
            outcome=report.outcome,
            resources_offered=contact.resources_offered,
        ),
        source=source,
    )
    closed = False
    if assignment is not None:
        assignment.last_activity_at = now
        if report.outcome in CLOSES_AS and checkin.status in OPEN:
            closed = await care.close(session, checkin.checkin_id, CLOSES_AS[report.outcome], now)
    return Logged(contact.contact_id, closed)
