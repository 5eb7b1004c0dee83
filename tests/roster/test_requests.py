"""Nobody left waiting: an officer asks for a peer, the best supporter has a few seconds
(compressed from the default ten minutes) to take it, an ignored assignment moves to the
next-best one, and after the agency's moves, or with nobody left, it waits for a
coordinator, who never learns who asked. Real HTTP, real NATS (restarted between the
branches, with the service), both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import nats
import pytest

from services.roster.app import create_app
from services.roster.deadlines import Fired
from shared.events import (
    AssignmentAcknowledged,
    AssignmentEscalated,
    AssignmentReassigned,
    PeerAssigned,
    SupportRequested,
    SupportRequestResolved,
)
from shared.streams import EVENTS
from shared.tokens import Role
from shared.vocab import (
    AssignmentReason,
    EscalationReason,
    InvolvedRole,
    ReassignReason,
    RequestOutcome,
)
from tests.conftest import bearer
from tests.roster.scenario import add_supporter, coordinator, publish, reported
from tests.support.bus import EventLog
from tests.support.running import on_the_bus, roster_settings

DEADLINE = 2  # seconds an officer's request waits for its supporter, in these tests


def officer(roster, agency: str, personnel_id: str = "B7") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=roster.url, headers=bearer(agency, Role.OFFICER, personnel_id)
    )


def supporter_of(roster, agency: str, supporter_id: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=roster.url, headers=bearer(agency, Role.SUPPORTER, supporter_id)
    )


async def setup(roster, agency: str, *supporters: str, **settings) -> None:
    async with coordinator(roster, agency) as client:
        for number, supporter_id in enumerate(supporters):
            await add_supporter(client, agency, supporter_id, f"PSO-{number}")
        body = {"acknowledge_request_within": DEADLINE, **settings}
        assert (await client.put("/v1/settings", json=body)).status_code == 200


def soon(minutes: int = 15) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


async def test_an_officers_request_is_offered_at_once_and_taken_with_one_tap(roster, agency):
    await setup(roster, agency, "S-A", "S-B")
    async with (
        EventLog(roster.nats_url, f"ps.{agency}.*.*", EVENTS.name) as log,
        officer(roster, agency) as me,
    ):
        asked = await me.post("/v1/requests", json={"reach": "text", "language": "es"})
        assert asked.status_code == 201, asked.text
        request = asked.json()
        assert request["state"] == "sent" and request["peer"] is None
        again = await me.post("/v1/requests", json={"reach": "call"})
        assert again.status_code == 409  # one open request at a time
        [made] = await log.wait_for(SupportRequested)
        [assigned] = await log.wait_for(PeerAssigned)
        async with supporter_of(roster, agency, assigned.supporter_id) as peer:
            seen = await peer.get(f"/v1/assignments/{assigned.assignment_id}/acknowledgment")
            assert seen.json()["for_request"] and seen.json()["reach"] == "text"
            taken = await peer.post(
                f"/v1/assignments/{assigned.assignment_id}/acknowledge",
                json={"reach_by": soon()},
            )
            assert taken.status_code == 200, taken.text
            twice = await peer.post(
                f"/v1/assignments/{assigned.assignment_id}/acknowledge",
                json={"reach_by": soon(30)},
            )
        [ack] = await log.wait_for(AssignmentAcknowledged)
        [resolved] = await log.wait_for(SupportRequestResolved)
        mine = (await me.get("/v1/requests")).json()
    assert assigned.supporter_id == "S-A" and assigned.personnel_id == "B7"
    assert AssignmentReason.OFFICER_REQUEST in assigned.reasons
    assert assigned.incident_id == made.request_id == resolved.request_id
    assert assigned.acknowledge_by is not None
    assert "B7" not in made.model_dump_json() and "B7" not in resolved.model_dump_json()
    assert ack.for_request and ack.within_deadline and ack.waited_seconds < DEADLINE
    assert resolved.outcome is RequestOutcome.TAKEN
    assert twice.json()["reach_by"] == taken.json()["reach_by"]  # the first answer stands
    assert mine[0]["state"] == "taken"
    assert mine[0]["peer"]["first_name"] == "Alex"


async def test_a_promise_in_the_past_or_days_ahead_is_refused_naming_the_field(roster, agency):
    await setup(roster, agency, "S-A")
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        async with officer(roster, agency) as me:
            await me.post("/v1/requests", json={})
        [assigned] = await log.wait_for(PeerAssigned)
    async with supporter_of(roster, agency, "S-A") as peer:
        for when in (soon(-60), soon(60 * 24 * 4)):
            answer = await peer.post(
                f"/v1/assignments/{assigned.assignment_id}/acknowledge", json={"reach_by": when}
            )
            assert answer.status_code == 422
            assert answer.json()["errors"][0]["loc"] == ["reach_by"]
    async with supporter_of(roster, agency, "S-B") as stranger:
        answer = await stranger.get(f"/v1/assignments/{assigned.assignment_id}/acknowledgment")
        assert answer.status_code == 403


async def test_an_ignored_request_moves_on_and_then_waits_for_a_coordinator(roster, agency):
    await setup(roster, agency, "S-A", "S-B", "S-C", max_moves=1)
    async with EventLog(roster.nats_url, f"ps.{agency}.*.*", EVENTS.name) as log:
        async with officer(roster, agency) as me:
            await me.post("/v1/requests", json={"reach": "in_person"})
            [first] = await log.wait_for(PeerAssigned)
            [moved] = await log.wait_for(AssignmentReassigned, timeout=DEADLINE + 15)
            async with supporter_of(roster, agency, first.supporter_id) as late:
                too_late = await late.post(
                    f"/v1/assignments/{first.assignment_id}/acknowledge", json={"reach_by": soon()}
                )
            [alert] = await log.wait_for(AssignmentEscalated, timeout=DEADLINE + 15)
            state = (await me.get("/v1/requests")).json()[0]["state"]
        async with coordinator(roster, agency) as boss:
            waiting = (await boss.get("/v1/waiting")).json()
            busy = await boss.post(
                f"/v1/waiting/{first.assignment_id}/give", json={"supporter_id": "S-B"}
            )
            given = await boss.post(
                f"/v1/waiting/{first.assignment_id}/give", json={"supporter_id": "S-C"}
            )
        [_, by_hand] = await log.wait_for(AssignmentReassigned, count=2)
    assert (first.supporter_id, moved.supporter_id) == ("S-A", "S-B")
    assert moved.reason is ReassignReason.NOT_ACKNOWLEDGED and moved.for_request
    assert too_late.status_code == 403  # it is S-B's now
    assert alert.reason is EscalationReason.MOVES_EXHAUSTED and alert.moves == 1
    assert state == "escalated"
    assert [w["assignment_id"] for w in waiting] == [str(first.assignment_id)]
    assert "B7" not in str(waiting) and "personnel_id" not in waiting[0]
    assert busy.status_code == 409  # S-B holds it already
    assert given.status_code == 200, given.text
    assert by_hand.reason is ReassignReason.COORDINATOR and by_hand.supporter_id == "S-C"


async def test_with_nobody_free_a_request_goes_to_the_coordinators_at_once(roster, agency):
    await setup(roster, agency)
    async with (
        EventLog(roster.nats_url, f"ps.{agency}.*.*", EVENTS.name) as log,
        officer(roster, agency) as me,
    ):
        asked = (await me.post("/v1/requests", json={"reach": "call"})).json()
        [alert] = await log.wait_for(AssignmentEscalated)
        await setup(roster, agency, "S-A")
        async with coordinator(roster, agency) as boss:
            [waiting] = (await boss.get("/v1/waiting")).json()
            given = await boss.post(
                f"/v1/waiting/{waiting['assignment_id']}/give", json={"supporter_id": "S-A"}
            )
        [assigned] = await log.wait_for(PeerAssigned)
        after = (await me.get("/v1/requests")).json()[0]
    assert asked["state"] == "escalated"
    assert alert.reason is EscalationReason.NO_ONE_LEFT and alert.for_request
    assert given.status_code == 200
    assert assigned.supporter_id == "S-A" and assigned.personnel_id == "B7"
    assert after["state"] == "sent"


async def test_the_officer_withdraws_a_request_and_the_supporter_is_freed(roster, agency):
    await setup(roster, agency)
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1", max_open_assignments=1)
    async with EventLog(roster.nats_url, f"ps.{agency}.*.*", EVENTS.name) as log:
        async with officer(roster, agency) as me:
            request = (await me.post("/v1/requests", json={})).json()
            [assigned] = await log.wait_for(PeerAssigned)
            withdrawn = await me.post(f"/v1/requests/{request['request_id']}/cancel")
            again = await me.post(f"/v1/requests/{request['request_id']}/cancel")
            [resolved] = await log.wait_for(SupportRequestResolved)
        await _sleep_past(assigned.acknowledge_by)
        async with officer(roster, agency, "B8") as someone_else:
            theirs = await someone_else.post(f"/v1/requests/{request['request_id']}/cancel")
            await someone_else.post("/v1/requests", json={})
        [_, next_one] = await log.wait_for(PeerAssigned, count=2)
    assert withdrawn.json()["state"] == "cancelled" and again.status_code == 409
    assert theirs.status_code == 403
    assert resolved.outcome is RequestOutcome.CANCELLED
    assert next_one.supporter_id == "S-A"  # the slot came back
    assert not log.of_type(AssignmentReassigned) and not log.of_type(AssignmentEscalated)


async def test_an_incident_assignment_has_its_own_deadline_and_moves_alike(roster, agency):
    await setup(roster, agency, "S-A", "S-B", acknowledge_assignment_within=DEADLINE)
    incident = reported(agency, ("B1", InvolvedRole.PRIMARY))
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, incident)
        [first] = await log.wait_for(PeerAssigned)
        [moved] = await log.wait_for(AssignmentReassigned, timeout=DEADLINE + 15)
        async with supporter_of(roster, agency, "S-B") as peer:
            taken = await peer.post(
                f"/v1/assignments/{first.assignment_id}/acknowledge", json={"reach_by": soon()}
            )
        [ack] = await log.wait_for(AssignmentAcknowledged)
    assert first.acknowledge_by - first.occurred_at <= timedelta(seconds=DEADLINE + 1)
    assert not moved.for_request and moved.supporter_id == "S-B"
    assert taken.status_code == 200
    assert not ack.for_request and not ack.within_deadline


@pytest.mark.faults
async def test_every_branch_survives_restarts_of_the_service_and_nats(
    nats_server, database_url, tmp_path, agency
):
    """Asked, moved, escalated, given and taken, with the roster and nats-server stopped
    between each step: the deadlines are held by the bus and fire after a restart."""
    settings = roster_settings(nats_server.url, database_url, tmp_path / "roster")

    async def step(action, wanted, count=1):
        app = create_app(settings)
        async with on_the_bus(app.state.runtime):
            transport = httpx.ASGITransport(app=app)
            async with EventLog(nats_server.url, f"ps.{agency}.*.*", EVENTS.name) as log:
                result = await action(transport)
                events = await log.wait_for(wanted, count=count, timeout=DEADLINE + 20)
        return result, events

    def client(transport, role, sub=None):
        return httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=bearer(agency, role, sub)
        )

    async def prepare_and_ask(transport):
        async with client(transport, Role.COORDINATOR) as boss:
            for number, supporter_id in enumerate(("S-A", "S-B", "S-C")):
                await add_supporter(boss, agency, supporter_id, f"PSO-{number}")
            body = {"acknowledge_request_within": DEADLINE, "max_moves": 1}
            assert (await boss.put("/v1/settings", json=body)).status_code == 200
        async with client(transport, Role.OFFICER, "B7") as me:
            return (await me.post("/v1/requests", json={})).json()

    request, [assigned] = await step(prepare_and_ask, PeerAssigned)
    nats_server.kill()
    await _sleep_past(assigned.acknowledge_by)
    nats_server.start()

    async def nothing(transport):
        return None

    _, events = await step(nothing, AssignmentReassigned)
    assert events[-1].supporter_id == "S-B"
    nats_server.kill()
    await _sleep_past(events[-1].acknowledge_by)
    nats_server.start()
    _, escalations = await step(nothing, AssignmentEscalated)
    assert escalations[-1].reason is EscalationReason.MOVES_EXHAUSTED
    nats_server.kill()
    nats_server.start()

    async def give_and_take(transport):
        async with client(transport, Role.COORDINATOR) as boss:
            answer = await boss.post(
                f"/v1/waiting/{assigned.assignment_id}/give", json={"supporter_id": "S-C"}
            )
            assert answer.status_code == 200, answer.text
        async with client(transport, Role.SUPPORTER, "S-C") as peer:
            taken = await peer.post(
                f"/v1/assignments/{assigned.assignment_id}/acknowledge", json={"reach_by": soon()}
            )
            assert taken.status_code == 200, taken.text
        async with client(transport, Role.OFFICER, "B7") as me:
            return (await me.get("/v1/requests")).json()[0]

    mine, resolved = await step(give_and_take, SupportRequestResolved)
    assert mine["state"] == "taken" and resolved[-1].outcome is RequestOutcome.TAKEN
    assert mine["request_id"] == request["request_id"]


async def _sleep_past(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds() + 0.5))


async def test_no_route_a_coordinator_or_leader_opens_names_the_officer_who_asked(roster, agency):
    """Every roster route without a path parameter, read with a coordinator's and a
    leader's token, after one request was taken and one is waiting."""
    asker, waiting_asker = "ASKER-4711", "ASKER-4712"
    await setup(roster, agency, "S-A", max_moves=0)
    async with EventLog(roster.nats_url, f"ps.{agency}.*.*", EVENTS.name) as log:
        async with officer(roster, agency, asker) as me:
            await me.post("/v1/requests", json={"reach": "call"})
        [assigned] = await log.wait_for(PeerAssigned)
        async with supporter_of(roster, agency, "S-A") as peer:
            await peer.post(
                f"/v1/assignments/{assigned.assignment_id}/acknowledge", json={"reach_by": soon()}
            )
        async with officer(roster, agency, waiting_asker) as me:
            await me.post("/v1/requests", json={"reach": "text"})
        await log.wait_for(AssignmentEscalated, timeout=DEADLINE + 15)
    async with httpx.AsyncClient(base_url=roster.url) as c:
        spec = (await c.get("/openapi.json")).json()
    paths = [
        path
        for path, operations in spec["paths"].items()
        if "get" in operations and "{" not in path and path.startswith("/v1/")
    ]
    read = []
    for role in (Role.COORDINATOR, Role.LEADERSHIP):
        async with httpx.AsyncClient(base_url=roster.url, headers=bearer(agency, role)) as c:
            read += [(role, path, (await c.get(path)).text) for path in paths]
    assert any(path == "/v1/waiting" and "escalated_at" in text for _, path, text in read)
    named = [(role, path) for role, path, text in read if asker in text or waiting_asker in text]
    assert named == []


async def test_a_deadline_delivered_twice_moves_the_assignment_once(roster, agency):
    """A redelivered or duplicated deadline (another replica's, a retry's) changes
    nothing: the inbox knows it, and the move is conditional on the move it names."""
    await setup(roster, agency, "S-A", "S-B", "S-C", acknowledge_request_within=3600)
    async with EventLog(roster.nats_url, f"ps.{agency}.*.*", EVENTS.name) as log:
        async with officer(roster, agency) as me:
            await me.post("/v1/requests", json={})
        [assigned] = await log.wait_for(PeerAssigned)
        fired = Fired(agency_id=agency, assignment_id=assigned.assignment_id, move=0)
        nc = await nats.connect(roster.nats_url)
        try:
            for _ in range(3):
                await nc.jetstream().publish(
                    f"ps.{agency}.deadline.fired", fired.model_dump_json().encode()
                )
        finally:
            await nc.close()
        [moved] = await log.wait_for(AssignmentReassigned)
        await asyncio.sleep(2)
    assert moved.supporter_id == "S-B"
    assert len(log.of_type(AssignmentReassigned)) == 1
