"""Check-in scenarios: a compressed policy, assignments published as the roster
publishes them, clients for each role."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.checkins.store import KnownOfficerRow
from shared.events import AssignmentReassigned, OfficerUpdated, PeerAssigned
from shared.pseudonyms import officer_ref
from shared.tokens import Role
from shared.vocab import AssignmentReason, Category, ReassignReason
from tests.support.bus import publish
from tests.support.clients import client
from tests.support.database import database_rows
from tests.support.events import peer_assigned
from tests.support.running import PSEUDONYM_KEY
from tests.support.waiting import await_until

# Seconds instead of hours and days: due at +1 s, window closes at +3 s, a follow-up
# at +5 s (its window closing at +7 s).
COMPRESSED = {
    "first_offer_after": "PT1S",
    "window_closes_after": "PT3S",
    "follow_ups": ["PT5S"],
    "anniversary_after": None,
}


async def compress_policy(service, agency: str, policy: dict = COMPRESSED) -> None:
    async with client(service, agency, Role.COORDINATOR) as coordinator:
        answer = await coordinator.put("/v1/policies/default", json=policy)
        assert answer.status_code == 200, answer.text


def assigned(
    agency: str,
    personnel_id: str = "B100",
    supporter_id: str = "S-A",
    *,
    occurred_at: datetime | None = None,
    category: Category = Category.OFFICER_INVOLVED_SHOOTING,
) -> PeerAssigned:
    return peer_assigned(
        agency,
        personnel_id=personnel_id,
        supporter_id=supporter_id,
        occurred_at=occurred_at,
        category=category,
    )


def requested(agency: str, personnel_id: str = "B100", supporter_id: str = "S-A") -> PeerAssigned:
    """The roster's assignment of an officer's request made now: no incident, no
    category, the request's id as `incident_id`."""
    now = datetime.now(UTC)
    return PeerAssigned(
        agency_id=agency,
        assignment_id=uuid.uuid4(),
        incident_id=uuid.uuid4(),
        personnel_id=personnel_id,
        supporter_id=supporter_id,
        supporter_agency_id=agency,
        reasons=[AssignmentReason.OFFICER_REQUEST, AssignmentReason.AVAILABLE_NOW],
        incident_occurred_at=now,
        acknowledge_by=now + timedelta(minutes=10),
    )


def reassigned(assignment: PeerAssigned, to: str, move: int = 1) -> AssignmentReassigned:
    """The roster moved `assignment` from its supporter to `to`: nobody acknowledged it."""
    return AssignmentReassigned(
        agency_id=assignment.agency_id,
        assignment_id=assignment.assignment_id,
        previous_supporter_id=assignment.supporter_id,
        supporter_id=to,
        supporter_agency_id=assignment.agency_id,
        reason=ReassignReason.NOT_ACKNOWLEDGED,
        move=move,
        for_request=AssignmentReason.OFFICER_REQUEST in assignment.reasons,
    )


def contact(checkin_id, outcome: str = "support_provided", **more) -> dict:
    return {
        "checkin_id": str(checkin_id),
        "initiated_by": "scheduled_checkin",
        "channel": "phone",
        "duration_bucket": "15_30m",
        "outcome": outcome,
        "resources_offered": ["eap"],
        **more,
    }


async def known_officer(service, agency: str, personnel_id: str) -> None:
    """The roster tells of the officer (`OfficerUpdated`), and check-ins has learnt it."""
    await publish(service.nats_url, OfficerUpdated(agency_id=agency, personnel_id=personnel_id))
    ref = officer_ref(PSEUDONYM_KEY, agency, personnel_id)

    async def learnt() -> bool:
        return ref in {row.officer_ref for row in await database_rows(service, KnownOfficerRow)}

    await await_until(learnt, what="the officer known to check-ins")
