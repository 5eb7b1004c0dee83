"""Check-in scenarios: a compressed policy, assignments published as the roster
publishes them, clients for each role."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx

from shared.events import PeerAssigned
from shared.tokens import Role
from shared.vocab import AssignmentReason, Category
from tests.conftest import bearer

# Seconds instead of hours and days: due at +1 s, window closes at +3 s, a follow-up
# at +5 s (its window closing at +7 s).
COMPRESSED = {
    "first_offer_after": "PT1S",
    "window_closes_after": "PT3S",
    "follow_ups": ["PT5S"],
    "anniversary_after": None,
}


def client(service, agency: str, role: Role, sub: str | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=service.url, headers=bearer(agency, role, sub))


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
    return PeerAssigned(
        agency_id=agency,
        assignment_id=uuid.uuid4(),
        incident_id=uuid.uuid4(),
        personnel_id=personnel_id,
        supporter_id=supporter_id,
        supporter_agency_id=agency,
        reasons=[AssignmentReason.AVAILABLE_NOW],
        category=category,
        incident_occurred_at=occurred_at or datetime.now(UTC),
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
