"""The offers of an assignment move on by timers held by the bus: scheduled, due,
overdue, expired, the next offer; a contact or a decline closes them and cancels what
was pending. Real NATS (message schedules), real HTTP, both databases, a policy
compressed to seconds."""

from __future__ import annotations

import asyncio
import uuid

from shared.events import (
    CheckInClosed,
    CheckInDue,
    CheckInOverdue,
    CheckInScheduled,
    IncidentRetracted,
)
from shared.streams import CHECKINS
from shared.tokens import Role
from shared.vocab import CheckInOutcome, RetractionReason
from tests.checkins.scenario import assigned, compress_policy, contact
from tests.support.bus import EventLog, publish
from tests.support.clients import client


async def test_an_offer_comes_due_then_overdue_then_expires_into_the_next(checkins, agency):
    await compress_policy(checkins, agency)
    assignment = assigned(agency)
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.*", CHECKINS.name) as log:
        await publish(checkins.nats_url, assignment)
        [first] = await log.wait_for(CheckInScheduled)
        [due] = await log.wait_for(CheckInDue, timeout=10)
        [overdue] = await log.wait_for(CheckInOverdue, timeout=10)
        [expired] = await log.wait_for(CheckInClosed, timeout=15)
        _, second = await log.wait_for(CheckInScheduled, count=2)
    assert (first.assignment_id, first.sequence) == (assignment.assignment_id, 1)
    assert (first.window_closes_at - first.due_at).total_seconds() == 2
    assert due.checkin_id == overdue.checkin_id == expired.checkin_id == first.checkin_id
    assert due.supporter_id == "S-A"
    assert (expired.outcome, expired.care_ended) == (CheckInOutcome.EXPIRED, False)
    assert second.sequence == 2
    kinds = [type(e).__name__ for e in log.events]
    assert kinds[:5] == [
        "CheckInScheduled",
        "CheckInDue",
        "CheckInOverdue",
        "CheckInClosed",
        "CheckInScheduled",
    ]


async def test_a_contact_closes_the_offer_and_cancels_its_timers(checkins, agency):
    await compress_policy(checkins, agency)
    assignment = assigned(agency)
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.*", CHECKINS.name) as log:
        await publish(checkins.nats_url, assignment)
        [first] = await log.wait_for(CheckInScheduled)
        async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
            answer = await supporter.post("/v1/contacts", json=contact(first.checkin_id))
        assert answer.status_code == 201, answer.text
        assert answer.json()["checkin_closed"] is True
        [closed] = await log.wait_for(CheckInClosed)
        _, second = await log.wait_for(CheckInScheduled, count=2)
        await asyncio.sleep(4)  # past the first offer's due time and window
    assert (closed.outcome, closed.care_ended) == (CheckInOutcome.CONTACTED, False)
    assert second.sequence == 2
    firsts = [e for e in log.events if getattr(e, "checkin_id", None) == first.checkin_id]
    assert [type(e).__name__ for e in firsts] == ["CheckInScheduled", "CheckInClosed"]


async def test_a_decline_closes_the_offer_and_cancels_the_follow_ups(checkins, agency):
    await compress_policy(checkins, agency)
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.*", CHECKINS.name) as log:
        await publish(checkins.nats_url, assigned(agency))
        [first] = await log.wait_for(CheckInScheduled)
        async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
            answer = await supporter.post(
                "/v1/contacts", json=contact(first.checkin_id, outcome="declined")
            )
        assert answer.status_code == 201, answer.text
        [closed] = await log.wait_for(CheckInClosed)
        await asyncio.sleep(6)  # past every time the policy has
    assert (closed.outcome, closed.care_ended) == (CheckInOutcome.DECLINED, True)
    assert [type(e).__name__ for e in log.events] == ["CheckInScheduled", "CheckInClosed"]


async def test_a_redelivered_assignment_opens_no_second_check_in(checkins, agency):
    await compress_policy(checkins, agency, {**_slow()})
    assignment = assigned(agency)
    again = assignment.model_copy(update={"event_id": uuid.uuid4()})
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.*", CHECKINS.name) as log:
        await publish(checkins.nats_url, assignment, assignment, again)
        sentinel = assigned(agency, "B999")
        await publish(checkins.nats_url, sentinel)
        await log.wait_for(CheckInScheduled, count=2)
        await asyncio.sleep(0.5)
    scheduled = log.of_type(CheckInScheduled)
    assert [s.assignment_id for s in scheduled] == [
        assignment.assignment_id,
        sentinel.assignment_id,
    ]


def _slow() -> dict:
    return {"first_offer_after": "PT1H", "window_closes_after": "PT3H", "follow_ups": []}


async def test_a_retraction_cancels_the_open_offer_and_ends_the_care(checkins, agency):
    await compress_policy(checkins, agency, _slow())
    assignment = assigned(agency)
    retraction = IncidentRetracted(
        agency_id=agency,
        incident_id=assignment.incident_id,
        reason=RetractionReason.ENTERED_IN_ERROR,
    )
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.*", CHECKINS.name) as log:
        await publish(checkins.nats_url, assignment)
        await log.wait_for(CheckInScheduled)
        await publish(checkins.nats_url, retraction)
        [closed] = await log.wait_for(CheckInClosed)
    assert (closed.outcome, closed.care_ended) == (CheckInOutcome.CANCELLED, True)
    assert closed.assignment_id == assignment.assignment_id
