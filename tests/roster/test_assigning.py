"""Incidents on the bus become assignments: every involved officer gets the right peer,
or the coordinator learns at once why nobody fits. Real HTTP for the roster, real NATS
for the incident events, both databases."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

from services.roster.app import create_app
from shared.events import (
    AssignmentUnfilled,
    IncidentRetracted,
    IncidentUpdated,
    Involved,
    PeerAssigned,
)
from shared.streams import EVENTS
from shared.vocab import (
    AssignmentReason,
    Category,
    InvolvedRole,
    RetractionReason,
    UnfilledReason,
)
from tests.roster.scenario import add_supporter, coordinator, publish, reported
from tests.support.bus import EventLog
from tests.support.running import on_the_bus, roster_settings


async def test_every_involved_officer_gets_a_peer_never_one_involved(roster, agency):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1")
        await add_supporter(client, agency, "S-B", "PSO-2")
    incident = reported(
        agency,
        ("B100", InvolvedRole.PRIMARY),
        ("B200", InvolvedRole.WITNESS),
        ("PSO-2", InvolvedRole.ASSISTING),  # a supporter, involved: served, never serving
    )
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, incident)
        assigned = await log.wait_for(PeerAssigned, count=3)
    assert {a.personnel_id for a in assigned} == {"B100", "B200", "PSO-2"}
    assert {a.supporter_id for a in assigned} == {"S-A"}
    assert all(a.incident_id == incident.incident_id for a in assigned)
    assert all(a.reasons for a in assigned)
    assert not log.of_type(AssignmentUnfilled)


async def test_an_update_assigns_only_the_officers_it_adds(roster, agency):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1")
    incident = reported(agency, ("B100", InvolvedRole.PRIMARY))
    update = IncidentUpdated(
        agency_id=agency,
        occurred_at=incident.occurred_at,
        incident_id=incident.incident_id,
        category=incident.category,
        involved=[*incident.involved, Involved(personnel_id="B300", role=InvolvedRole.ASSISTING)],
    )
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, incident, update)
        assigned = await log.wait_for(PeerAssigned, count=2)
        again = incident.model_copy(update={"event_id": uuid.uuid4()})  # a replay
        await publish(roster.nats_url, again)
        sentinel = reported(agency, ("B900", InvolvedRole.PRIMARY))
        await publish(roster.nats_url, sentinel)  # applied after the replay
        await log.wait_for(PeerAssigned, count=3)
    assert [a.personnel_id for a in log.of_type(PeerAssigned)] == ["B100", "B300", "B900"]
    assert len({a.assignment_id for a in assigned}) == 2


async def test_a_full_supporter_leaves_the_officer_unfilled_until_a_retraction_frees_them(
    roster, agency
):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1", max_open_assignments=1)
    first = reported(agency, ("B1", InvolvedRole.PRIMARY))
    second = reported(agency, ("B2", InvolvedRole.PRIMARY))
    retraction = IncidentRetracted(
        agency_id=agency, incident_id=first.incident_id, reason=RetractionReason.ENTERED_IN_ERROR
    )
    third = reported(agency, ("B3", InvolvedRole.PRIMARY))
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, first, second, retraction, third)
        await log.wait_for(PeerAssigned, count=2)
        [unfilled] = await log.wait_for(AssignmentUnfilled)
    assert [(a.personnel_id, a.supporter_id) for a in log.of_type(PeerAssigned)] == [
        ("B1", "S-A"),
        ("B3", "S-A"),
    ]
    assert (unfilled.personnel_id, unfilled.reason) == ("B2", UnfilledReason.NONE_AVAILABLE)


async def test_an_officer_who_opted_out_gets_no_assignment_and_no_event(roster, agency):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1")
        answer = await client.put("/v1/officers/B100/preferences", json={"opted_out": True})
        assert answer.status_code in (200, 201), answer.text
    incident = reported(agency, ("B100", InvolvedRole.PRIMARY), ("B200", InvolvedRole.WITNESS))
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, incident)
        [assigned] = await log.wait_for(PeerAssigned)
        sentinel = reported(agency, ("B900", InvolvedRole.PRIMARY))
        await publish(roster.nats_url, sentinel)
        await log.wait_for(PeerAssigned, count=2)
    assert assigned.personnel_id == "B200"
    assert all(e.personnel_id != "B100" for e in log.events)


async def test_a_mass_casualty_fills_every_slot_evenly_and_reports_the_overflow(roster, agency):
    async with coordinator(roster, agency) as client:
        for n in range(20):
            await add_supporter(client, agency, f"S-{n:02}", f"PSO-{n:02}", unit=f"U{n}")
    officers = [(f"B{n:03}", InvolvedRole.ASSISTING) for n in range(500)]
    incident = reported(agency, *officers)
    incident = incident.model_copy(update={"category": Category.MASS_CASUALTY})
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, incident)
        assigned = await log.wait_for(PeerAssigned, count=60, timeout=30)
        unfilled = await log.wait_for(AssignmentUnfilled, count=440, timeout=30)
    loads = Counter(a.supporter_id for a in assigned)
    assert len(loads) == 20 and set(loads.values()) == {3}  # every slot, nobody over cap
    assert {u.reason for u in unfilled} == {UnfilledReason.NONE_AVAILABLE}
    assert {e.personnel_id for e in [*assigned, *unfilled]} == {p for p, _ in officers}


async def test_two_replicas_racing_on_the_same_supporters_hold_every_cap(
    roster, agency, database_url, tmp_path
):
    async with coordinator(roster, agency) as client:
        for n in range(5):
            await add_supporter(client, agency, f"S-{n}", f"PSO-{n}", unit=f"U{n}")
    settings = roster_settings(roster.nats_url, database_url, tmp_path / "replica")
    incidents = [reported(agency, (f"B{n:02}", InvolvedRole.PRIMARY)) for n in range(30)]
    async with (
        on_the_bus(create_app(settings).state.runtime),
        EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log,
    ):
        await publish(roster.nats_url, *incidents)
        assigned = await log.wait_for(PeerAssigned, count=15, timeout=30)
        await log.wait_for(AssignmentUnfilled, count=15, timeout=30)
    assert Counter(a.supporter_id for a in assigned) == {f"S-{n}": 3 for n in range(5)}
    assert len({e.personnel_id for e in log.events}) == 30  # one outcome each


async def test_the_traces_of_an_assignment_name_no_officer_and_no_supporter(roster, agency):
    """Rule 10 on the consumer path: spans of matching carry no personnel or supporter id."""
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-QX7", "PSO-QX7")
    incident = reported(agency, ("B4Q2Z", InvolvedRole.PRIMARY))
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, incident)
        await log.wait_for(PeerAssigned)
    spans = roster.spans.get_finished_spans()
    assert any(s.name == "roster-incidents process" for s in spans)
    for span in spans:
        text = repr((span.name, dict(span.attributes or {}), [e.attributes for e in span.events]))
        assert "B4Q2Z" not in text and "QX7" not in text


async def test_an_officers_background_on_their_record_finds_a_peer_who_shares_it(roster, agency):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1", unit="U1", background=[])
        await add_supporter(client, agency, "S-B", "PSO-2", unit="U2", background=["military"])
        answer = await client.put("/v1/officers/B100", json={"background": ["military"]})
        assert answer.status_code == 201, answer.text
        assert answer.json()["background"] == ["military"]
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, reported(agency, ("B100", InvolvedRole.PRIMARY)))
        [assigned] = await log.wait_for(PeerAssigned)
    assert assigned.supporter_id == "S-B"
    assert AssignmentReason.BACKGROUND_MATCH in assigned.reasons


async def test_an_incident_reported_long_after_it_happened_is_history_not_matched(roster, agency):
    """A CAD sending last year's incidents (a backfill) sends nobody to those officers;
    an incident of last week is matched as any other."""
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1")
    old = reported(agency, ("B1", InvolvedRole.PRIMARY))
    old = old.model_copy(update={"occurred_at": old.occurred_at - timedelta(days=200)})
    recent = reported(agency, ("B2", InvolvedRole.PRIMARY))
    recent = recent.model_copy(update={"occurred_at": recent.occurred_at - timedelta(days=7)})
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, old, recent)
        [assigned] = await log.wait_for(PeerAssigned)
    assert assigned.personnel_id == "B2"
    assert not log.of_type(AssignmentUnfilled)
