"""Roster scenarios on the bus: supporters added over HTTP, incident events published
as the incidents service publishes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from shared.events import IncidentReported, Involved
from shared.tokens import Role
from shared.vocab import Category, InvolvedRole, TrainingArea
from tests.conftest import bearer
from tests.roster.records import supporter
from tests.support.bus import publish  # noqa: F401  (the roster tests publish with it)

ALWAYS = {"timezone": "UTC", "weekly": [], "on_call": [], "leave": []}


async def add_supporter(client, agency: str, supporter_id: str, personnel_id: str, **fields):
    body = supporter(agency, personnel_id, availability=ALWAYS, **fields)
    assert (await client.put(f"/v1/supporters/{supporter_id}", json=body)).status_code in (200, 201)
    today = datetime.now(UTC).date()
    for area in TrainingArea:
        record = {
            "completed_on": str(today - timedelta(days=30)),
            "expires_on": str(today + timedelta(days=365)),
        }
        answer = await client.put(f"/v1/supporters/{supporter_id}/training/{area}", json=record)
        assert answer.status_code in (200, 201), answer.text


def reported(agency: str, *officers: tuple[str, InvolvedRole]) -> IncidentReported:
    return IncidentReported(
        agency_id=agency,
        occurred_at=datetime.now(UTC) - timedelta(hours=1),
        incident_id=uuid.uuid4(),
        external_id=f"CAD-{uuid.uuid4().hex[:8]}",
        category=Category.OFFICER_INVOLVED_SHOOTING,
        involved=[Involved(personnel_id=p, role=r) for p, r in officers],
    )


def coordinator(roster, agency: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=roster.url, headers=bearer(agency, Role.COORDINATOR))
