"""The end of care gives a supporter's slot back, and may earn the supporter care in
turn (care for the carers); supporters are reminded of training to renew. Real HTTP for
the roster, real NATS, both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.roster import reminders
from services.roster.app import create_app
from services.roster.assignment_store import LoadRow, MatchRow, Outcome
from shared.events import (
    AssignmentUnfilled,
    CheckInClosed,
    PeerAssigned,
    TrainingExpiring,
)
from shared.ids import derived_event_id
from shared.streams import EVENTS
from shared.vocab import AssignmentReason, Category, CheckInOutcome, InvolvedRole, TrainingArea
from tests.roster.scenario import add_supporter, coordinator, publish, reported
from tests.support.bus import EventLog
from tests.support.database import database_rows
from tests.support.running import on_the_bus, roster_settings
from tests.support.waiting import await_until


def closed(assigned: PeerAssigned, *, care_ended: bool = True) -> CheckInClosed:
    return CheckInClosed(
        agency_id=assigned.agency_id,
        checkin_id=uuid.uuid4(),
        outcome=CheckInOutcome.CONTACTED,
        assignment_id=assigned.assignment_id,
        care_ended=care_ended,
    )


async def outcome_of(roster, assigned: PeerAssigned) -> str:
    rows = await database_rows(roster, MatchRow)
    [row] = [r for r in rows if r.assignment_id == str(assigned.assignment_id)]
    return row.outcome


async def until_closed(roster, assigned: PeerAssigned) -> None:
    async def is_closed() -> bool:
        return await outcome_of(roster, assigned) == Outcome.CLOSED

    await await_until(is_closed, timeout=20, what="the assignment closed")


async def test_the_end_of_care_gives_the_supporter_their_slot_back(roster, agency):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1", max_open_assignments=1)
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, reported(agency, ("B1", InvolvedRole.PRIMARY)))
        [first] = await log.wait_for(PeerAssigned)
        # A first offer closed with follow-ups still to come: the care goes on.
        await publish(roster.nats_url, closed(first, care_ended=False))
        await publish(roster.nats_url, reported(agency, ("B2", InvolvedRole.PRIMARY)))
        [full] = await log.wait_for(AssignmentUnfilled)
        assert await outcome_of(roster, first) == Outcome.ASSIGNED
        # Its last offer closed, twice (a redelivery): one slot back, not two.
        await publish(roster.nats_url, closed(first), closed(first))
        await until_closed(roster, first)
        await publish(roster.nats_url, reported(agency, ("B3", InvolvedRole.PRIMARY)))
        await publish(roster.nats_url, reported(agency, ("B4", InvolvedRole.PRIMARY)))
        await log.wait_for(PeerAssigned, count=2)
        await log.wait_for(AssignmentUnfilled, count=2)
    assert full.personnel_id == "B2"
    assert [a.personnel_id for a in log.of_type(PeerAssigned)] == ["B1", "B3"]
    [load] = await database_rows(roster, LoadRow)
    assert load.open_assignments == 1


async def test_closing_a_line_of_duty_death_earns_the_supporter_a_peer_not_involved(roster, agency):
    async with coordinator(roster, agency) as client:
        for n, name in enumerate("ABC"):
            await add_supporter(client, agency, f"S-{name}", f"PSO-{n + 1}", unit=f"U{n}")
    incident = reported(agency, ("B1", InvolvedRole.PRIMARY), ("PSO-2", InvolvedRole.WITNESS))
    incident = incident.model_copy(update={"category": Category.LINE_OF_DUTY_DEATH})
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, incident)
        await log.wait_for(PeerAssigned, count=2)
        by_officer = {a.personnel_id: a for a in log.of_type(PeerAssigned)}
        assert by_officer["B1"].supporter_id == "S-A"
        assert by_officer["B1"].category == Category.LINE_OF_DUTY_DEATH
        assert by_officer["B1"].incident_occurred_at == incident.occurred_at
        await publish(roster.nats_url, closed(by_officer["B1"]))
        [_, _, care] = await log.wait_for(PeerAssigned, count=3)
        await publish(roster.nats_url, closed(by_officer["B1"]))  # redelivered: no second offer
        await publish(roster.nats_url, closed(by_officer["PSO-2"]))  # LOD again: S-C's turn
        await log.wait_for(PeerAssigned, count=4)
    # S-A is cared for as the officer PSO-1; S-B (PSO-2) was involved, so S-C serves.
    assert (care.agency_id, care.personnel_id, care.supporter_id) == (agency, "PSO-1", "S-C")
    assert AssignmentReason.CARE_FOR_CARER in care.reasons
    assert care.incident_id == derived_event_id("care-for-carer", by_officer["B1"].assignment_id)
    assert care.category is None
    assert [a.personnel_id for a in log.of_type(PeerAssigned)][3] == "PSO-3"


async def test_enough_closings_within_30_days_earn_the_supporter_care(roster, agency):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1", unit="U1")
        await add_supporter(client, agency, "S-B", "PSO-2", unit="U2", max_open_assignments=0)
        answer = await client.put("/v1/settings", json={"care_for_carers_after": 2})
        assert answer.status_code == 200, answer.text
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, reported(agency, ("B1", InvolvedRole.PRIMARY)))
        await publish(roster.nats_url, reported(agency, ("B2", InvolvedRole.PRIMARY)))
        first, second = await log.wait_for(PeerAssigned, count=2)
        await publish(roster.nats_url, closed(first))
        await until_closed(roster, first)
        assert not log.of_type(AssignmentUnfilled)  # one closing earns nothing yet
        await publish(roster.nats_url, closed(second))
        [care] = await log.wait_for(AssignmentUnfilled)
    # S-B has no room, so the coordinator learns that S-A's care found nobody.
    assert (care.personnel_id, care.reason) == ("PSO-1", "none_available")
    assert care.incident_id == derived_event_id("care-for-carer", second.assignment_id)


async def test_supporters_are_reminded_once_of_training_that_runs_out(
    roster, agency, database_url, tmp_path
):
    today = datetime.now(UTC).date()
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-A", "PSO-1")
        await add_supporter(client, agency, "S-B", "PSO-2")
        soon = {
            "completed_on": str(today - timedelta(days=700)),
            "expires_on": str(today + timedelta(days=10)),
        }
        answer = await client.put("/v1/supporters/S-A/training/self_care", json=soon)
        assert answer.status_code == 200, answer.text
    settings = roster_settings(roster.nats_url, database_url, tmp_path / "replica")
    async with EventLog(
        roster.nats_url, f"ps.{agency}.roster.training_expiring", EVENTS.name
    ) as log:
        async with on_the_bus(create_app(settings).state.runtime):  # reminds at start
            [reminder] = await log.wait_for(TrainingExpiring)
        async with on_the_bus(create_app(settings).state.runtime) as again:  # a restart
            assert await reminders.remind(again) == 0
    assert (reminder.supporter_id, reminder.area) == ("S-A", TrainingArea.SELF_CARE)
    assert reminder.expires_on == today + timedelta(days=10)
    assert len(log.events) == 1
