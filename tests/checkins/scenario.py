"""Check-in scenarios: a compressed policy, assignments published as the roster
publishes them, clients for each role."""

from __future__ import annotations

from datetime import datetime

from services.checkins.store import KnownOfficerRow
from shared.events import OfficerUpdated, PeerAssigned
from shared.pseudonyms import officer_ref
from shared.tokens import Role
from shared.vocab import Category
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
