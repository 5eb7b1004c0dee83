"""The coordinators' list of assignments matching could not fill: newest first, until
the incident is retracted, and never naming an officer. Real NATS, both databases."""

from __future__ import annotations

from shared.events import AssignmentUnfilled, IncidentRetracted, PeerAssigned
from shared.streams import EVENTS
from shared.tokens import Role
from shared.vocab import InvolvedRole, RetractionReason
from tests.conftest import bearer
from tests.roster.records import audited
from tests.roster.scenario import add_supporter, coordinator, publish, reported
from tests.support.bus import EventLog
from tests.support.waiting import await_until


async def test_coordinators_see_what_is_still_unfilled_without_who(roster, agency):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1", max_open_assignments=1)
    first = reported(agency, ("B-FIRST", InvolvedRole.PRIMARY), ("B-WITNESS", InvolvedRole.WITNESS))
    second = reported(agency, ("B-SECOND", InvolvedRole.PRIMARY))
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, first)
        await log.wait_for(AssignmentUnfilled)
        await publish(roster.nats_url, second)
        await log.wait_for(AssignmentUnfilled, count=2)
    assert [a.personnel_id for a in log.of_type(PeerAssigned)] == ["B-FIRST"]
    async with coordinator(roster, agency) as client:
        listed = await client.get("/v1/unfilled")
        one = await client.get("/v1/unfilled", params={"limit": 1})
        elsewhere = await client.get("/v1/unfilled", headers=bearer("OTHER01", Role.COORDINATOR))
        roles = [
            await client.get("/v1/unfilled", headers=bearer(agency, role, "B-WITNESS"))
            for role in (Role.OFFICER, Role.SUPPORTER, Role.LEADERSHIP, Role.SERVICE)
        ]
        retraction = IncidentRetracted(
            agency_id=agency,
            incident_id=second.incident_id,
            reason=RetractionReason.ENTERED_IN_ERROR,
        )
        await publish(roster.nats_url, retraction)

        async def retracted() -> bool:
            return len((await client.get("/v1/unfilled")).json()) == 1

        await await_until(retracted, timeout=20, what="the retraction")
        after = await client.get("/v1/unfilled")
    assert listed.status_code == 200, listed.text
    entries = listed.json()
    assert [(e["incident_id"], e["reason"]) for e in entries] == [
        (str(second.incident_id), "none_available"),  # newest first
        (str(first.incident_id), "none_available"),
    ]
    assert entries[0]["category"] == "officer_involved_shooting"
    assert entries[0]["care_for_carer"] is False
    assert entries[0]["decided_at"] >= entries[1]["decided_at"]
    assert all(
        set(e) == {"incident_id", "category", "reason", "care_for_carer", "decided_at"}
        for e in entries
    )
    for personnel_id in ("B-FIRST", "B-WITNESS", "B-SECOND", "PSO-1", "S-A"):
        assert personnel_id not in listed.text
    assert "personnel_id" not in listed.text
    assert [e["incident_id"] for e in one.json()] == [str(second.incident_id)]
    assert elsewhere.json() == []
    assert [answer.status_code for answer in roles] == [403] * 4
    # A retraction releases the incident's unfilled outcomes: nothing left to fill there.
    assert [e["incident_id"] for e in after.json()] == [str(first.incident_id)]
    assert await audited(roster) == []  # nobody identified, nothing to audit
