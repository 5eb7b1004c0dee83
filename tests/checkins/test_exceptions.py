"""Confidentiality exceptions are a reason code and a day, never content: audited, seen
by the agency's coordinators, counted from an event that names no one (rules 1,
9 and 11). Real HTTP, real NATS, both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.checkins.store import ExceptionRow
from shared.audit import AuditRow
from shared.events import CheckInScheduled, ConfidentialityExceptionRecorded
from shared.streams import CHECKINS, EVENTS
from shared.tokens import Role
from tests.checkins.scenario import assigned
from tests.support.bus import EventLog, publish
from tests.support.clients import client
from tests.support.database import database_rows

YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()


async def _assignment(checkins, agency: str, supporter_id: str = "S-A") -> str:
    """An assignment the service knows, as the roster would publish it."""
    assignment = assigned(agency, "B7Q3X", supporter_id)
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.scheduled", CHECKINS.name) as log:
        await publish(checkins.nats_url, assignment)
        await log.wait_for(CheckInScheduled)
    return str(assignment.assignment_id)


def _exception(assignment_id: str | None = None, **more) -> dict:
    body = {"reason": "imminent_harm", "occurred_on": YESTERDAY, **more}
    if assignment_id is not None:
        body["assignment_id"] = assignment_id
    return body


async def test_an_exception_is_published_audited_and_seen_by_the_agencys_coordinator(
    checkins, agency
):
    assignment_id = await _assignment(checkins, agency)
    subject = f"ps.{agency}.exception.recorded"
    async with EventLog(checkins.nats_url, subject, EVENTS.name) as log:
        async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
            answer = await supporter.post("/v1/exceptions", json=_exception(assignment_id))
        assert answer.status_code == 201, answer.text
        [event] = await log.wait_for(ConfidentialityExceptionRecorded)
    exception_id = answer.json()["exception_id"]
    assert (str(event.exception_id), event.reason, event.occurred_on) == (
        exception_id,
        "imminent_harm",
        date.fromisoformat(YESTERDAY),
    )
    [(_, _, payload)] = log.raw
    assert set(payload) == {
        "event_id",
        "agency_id",
        "occurred_at",
        "exception_id",
        "reason",
        "occurred_on",
    }
    assert "S-A" not in repr(payload) and "B7Q3X" not in repr(payload)

    async with client(checkins, agency, Role.COORDINATOR, "C-1") as coordinator:
        listed = await coordinator.get("/v1/exceptions")
    assert listed.status_code == 200
    assert listed.json() == [
        {
            "exception_id": exception_id,
            "reason": "imminent_harm",
            "occurred_on": YESTERDAY,
            "recorded_at": listed.json()[0]["recorded_at"],
            "recorded_by_role": "supporter",
            "assignment_id": assignment_id,
        }
    ]
    async with client(checkins, "OTHER01", Role.COORDINATOR) as elsewhere:
        assert (await elsewhere.get("/v1/exceptions")).json() == []
    async with client(checkins, agency, Role.LEADERSHIP) as leader:
        assert (await leader.get("/v1/exceptions")).status_code == 403
    async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
        assert (await supporter.get("/v1/exceptions")).status_code == 403

    audit = sorted(await database_rows(checkins, AuditRow), key=lambda r: r.id)
    assert [(a.actor, a.action, a.object_type, a.object_id) for a in audit] == [
        ("S-A", "record", "confidentiality_exception", exception_id),
        ("C-1", "read", "confidentiality_exception", exception_id),
    ]


async def test_a_coordinator_records_one_without_an_assignment(checkins, agency):
    async with client(checkins, agency, Role.COORDINATOR, "C-1") as coordinator:
        today = datetime.now(UTC).date().isoformat()
        answer = await coordinator.post(
            "/v1/exceptions", json={"reason": "court_order", "occurred_on": today}
        )
        assert answer.status_code == 201, answer.text
        [seen] = (await coordinator.get("/v1/exceptions")).json()
    assert (seen["reason"], seen["recorded_by_role"], seen["assignment_id"]) == (
        "court_order",
        "coordinator",
        None,
    )


@pytest.mark.parametrize(
    "change",
    [
        {"details": "he said he had a plan"},  # a field that does not exist
        {"reason": "he threatened his sergeant"},  # free text where a code belongs
        {"occurred_on": "last tuesday, after the shift"},
        {"occurred_on": (datetime.now(UTC) + timedelta(days=2)).date().isoformat()},
    ],
)
async def test_anything_but_a_code_and_a_past_day_is_refused_and_nothing_is_stored(
    checkins, agency, change
):
    async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
        answer = await supporter.post("/v1/exceptions", json={**_exception(), **change})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "plan" not in answer.text and "sergeant" not in answer.text
    assert await database_rows(checkins, ExceptionRow) == []
    assert await database_rows(checkins, AuditRow) == []


async def test_only_ones_own_or_ones_agencys_assignment_may_be_named(checkins, agency):
    assignment_id = await _assignment(checkins, agency, supporter_id="S-A")
    callers = [
        (agency, Role.SUPPORTER, "S-B"),  # another supporter
        ("OTHER01", Role.SUPPORTER, "S-A"),  # the same id in another agency
        ("OTHER01", Role.COORDINATOR, "C-9"),  # another agency's coordinator
    ]
    for caller in callers:
        async with client(checkins, *caller) as someone:
            answer = await someone.post("/v1/exceptions", json=_exception(assignment_id))
        assert answer.status_code == 403, caller
    for role in (Role.LEADERSHIP, Role.OFFICER):
        async with client(checkins, agency, role, "X1") as someone:
            assert (await someone.post("/v1/exceptions", json=_exception())).status_code == 403
    async with client(checkins, agency, Role.COORDINATOR, "C-1") as coordinator:
        missing = await coordinator.post(
            "/v1/exceptions", json=_exception("00000000-0000-4000-8000-000000000000")
        )
    assert missing.status_code == 404
    assert await database_rows(checkins, ExceptionRow) == []
