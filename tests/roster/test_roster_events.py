"""Roster changes are published through the outbox on `ps.<agency>.roster.<verb>`, once
per change, and carry no names, contact details, units or ranks."""

from __future__ import annotations

import httpx

from shared.events import (
    AgencySettingsUpdated,
    OfficerUpdated,
    PreferencesUpdated,
    ResourceUpdated,
    SupporterRemoved,
    SupporterUpdated,
    TrainingUpdated,
)
from shared.streams import EVENTS
from shared.tokens import Role
from tests.conftest import bearer
from tests.roster.records import EMAIL, NAME, PHONE, URL, supporter
from tests.support.bus import EventLog

PERSONAL = (EMAIL, PHONE, URL, NAME, "Alex", "Patrol North", "Sergeant", "Night Shift", "female")


async def test_every_change_publishes_one_event_without_personal_details(roster, agency):
    coordinator = bearer(agency, Role.COORDINATOR)
    async with EventLog(roster.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        async with httpx.AsyncClient(base_url=roster.url, headers=coordinator) as client:
            body = supporter(agency)
            await client.put("/v1/supporters/S-1", json=body)
            await client.put("/v1/supporters/S-1", json=body)  # unchanged: no event
            await client.put(
                "/v1/supporters/S-1", json={**body, "contact": {"email": "new@example.org"}}
            )
            training = {"completed_on": "2026-01-10", "expires_on": "2028-01-10"}
            await client.put("/v1/supporters/S-1/training/self_care", json=training)
            await client.put("/v1/supporters/S-1/training/self_care", json=training)
            officer = {"unit": "Night Shift", "rank": "Sergeant", "supervisor_id": "L-1"}
            await client.put("/v1/officers/B1", json=officer)
            await client.put("/v1/officers/B1", json=officer)
            wishes = {"preferred_gender": "female", "opted_out": True}
            await client.put("/v1/officers/B1/preferences", json=wishes)
            await client.put("/v1/officers/B1/preferences", json=wishes)
            resource = {"name": "County EAP", "resource_type": "eap", "phone": "+1 555 0199"}
            await client.put("/v1/resources/eap-1", json=resource)
            await client.put("/v1/resources/eap-1", json=resource)
            await client.put("/v1/settings", json={"use_regional_pool": True})
            await client.put("/v1/settings", json={"use_regional_pool": True})
            await client.delete("/v1/supporters/S-1")
            await client.delete("/v1/supporters/S-1")
        [removed] = await log.wait_for(SupporterRemoved)

    assert [type(e) for e in log.events] == [
        SupporterUpdated,
        SupporterUpdated,
        TrainingUpdated,
        OfficerUpdated,
        PreferencesUpdated,
        ResourceUpdated,
        AgencySettingsUpdated,
        SupporterRemoved,
    ]
    for subject, headers, payload in log.raw:
        verb = headers["ce-type"].split(".")[2]
        assert subject == f"ps.{agency}.roster.{verb}"
        assert headers["ce-agencyid"] == payload["agency_id"] == agency
        for personal in (*PERSONAL, "new@example.org"):
            assert personal not in str(payload), (verb, personal)
    created = log.of_type(SupporterUpdated)[0]
    assert (created.supporter_id, created.personnel_id, created.active) == ("S-1", "PSO-7", True)
    assert created.max_open_assignments == 3 and created.accepts_cross_agency is True
    [trained] = log.of_type(TrainingUpdated)
    assert (trained.area, trained.expires_on.isoformat()) == ("self_care", "2028-01-10")
    [preferences] = log.of_type(PreferencesUpdated)
    assert (preferences.personnel_id, preferences.opted_out) == ("B1", True)
    [settings] = log.of_type(AgencySettingsUpdated)
    assert settings.use_regional_pool is True and len(settings.required_training) == 5
    assert removed.supporter_id == "S-1"


async def test_a_region_wide_resource_is_announced_on_the_writers_agency(roster, agency):
    line = {
        "name": "Safe Call Now",
        "resource_type": "crisis_line",
        "crisis_line": True,
        "always_open": True,
        "region_wide": True,
    }
    async with EventLog(roster.nats_url, f"ps.{agency}.roster.*", EVENTS.name) as log:
        async with httpx.AsyncClient(base_url=roster.url) as client:
            answer = await client.put(
                "/v1/resources/line-1", json=line, headers=bearer(agency, Role.REGIONAL)
            )
        assert answer.status_code == 201
        [event] = await log.wait_for(ResourceUpdated)
    assert (event.resource_id, event.region_wide, event.crisis_line) == ("line-1", True, True)
    assert event.subject == f"ps.{agency}.roster.resource_updated"
