"""Contacts record that support happened, never what was said, and only the assigned
supporter sees which officer it was (rules 1, 4 and 9). Real HTTP, real NATS,
both databases."""

from __future__ import annotations

import pytest

from services.checkins.store import AssignmentRow, ContactRow
from shared.audit import AuditRow
from shared.events import CheckInScheduled, ContactLogged
from shared.pseudonyms import officer_ref
from shared.streams import CHECKINS, EVENTS
from shared.tokens import Role
from tests.checkins.scenario import assigned, contact, known_officer
from tests.support.bus import EventLog, publish
from tests.support.clients import client
from tests.support.database import database_rows
from tests.support.running import PSEUDONYM_KEY


async def _scheduled(checkins, agency, *assignments) -> list[CheckInScheduled]:
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.scheduled", CHECKINS.name) as log:
        await publish(checkins.nats_url, *assignments)
        return await log.wait_for(CheckInScheduled, count=len(assignments))


async def test_a_contact_goes_on_the_bus_with_the_officer_only_as_a_pseudonym(checkins, agency):
    [offer] = await _scheduled(checkins, agency, assigned(agency, "B7Q3X"))
    async with EventLog(checkins.nats_url, f"ps.{agency}.contact.logged", EVENTS.name) as log:
        async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
            answer = await supporter.post("/v1/contacts", json=contact(offer.checkin_id))
        assert answer.status_code == 201, answer.text
        [logged] = await log.wait_for(ContactLogged)
    assert logged.officer_ref == officer_ref(PSEUDONYM_KEY, agency, "B7Q3X")
    assert logged.checkin_id == offer.checkin_id
    [(_, _, payload)] = log.raw
    assert "B7Q3X" not in repr(payload)
    for span in checkins.spans.get_finished_spans():  # rule 10: traces name nobody
        text = repr((span.name, dict(span.attributes or {}), [e.attributes for e in span.events]))
        assert "B7Q3X" not in text
    assert set(payload) == {
        "event_id",
        "agency_id",
        "occurred_at",
        "contact_id",
        "supporter_id",
        "officer_ref",
        "checkin_id",
        "initiated_by",
        "channel",
        "duration_bucket",
        "outcome",
        "resources_offered",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"notes": "talked about the shooting"},  # a field that does not exist
        {"outcome": "he was upset"},  # free text where a code belongs
        {"channel": "phone call at home"},
        {"resources_offered": ["eap", "his pastor"]},
        {"personnel_id": "B100"},  # a check-in's contact names no officer
    ],
)
async def test_anything_but_codes_is_refused_and_nothing_is_stored(checkins, agency, change):
    [offer] = await _scheduled(checkins, agency, assigned(agency))
    async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
        answer = await supporter.post("/v1/contacts", json={**contact(offer.checkin_id), **change})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert await database_rows(checkins, ContactRow) == []


async def test_a_supporter_cannot_log_for_someone_elses_assignment(checkins, agency):
    [offer] = await _scheduled(checkins, agency, assigned(agency, supporter_id="S-A"))
    async with client(checkins, agency, Role.SUPPORTER, "S-B") as other:
        answer = await other.post("/v1/contacts", json=contact(offer.checkin_id))
    assert answer.status_code == 403
    async with client(checkins, "OTHER01", Role.SUPPORTER, "S-A") as same_id_elsewhere:
        answer = await same_id_elsewhere.post("/v1/contacts", json=contact(offer.checkin_id))
    assert answer.status_code == 403
    async with client(checkins, agency, Role.COORDINATOR) as coordinator:
        answer = await coordinator.post("/v1/contacts", json=contact(offer.checkin_id))
    assert answer.status_code == 403
    assert await database_rows(checkins, ContactRow) == []


async def test_an_officer_who_reached_out_is_logged_without_a_check_in(checkins, agency):
    body = {**contact(None), "initiated_by": "self_referral", "personnel_id": "B555"}
    del body["checkin_id"]
    invented = {**body, "personnel_id": "FREETEXT-7731"}
    async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
        unknown = await supporter.post("/v1/contacts", json=body)
        not_an_officer = await supporter.post("/v1/contacts", json=invented)
        await known_officer(checkins, agency, "B555")
        answer = await supporter.post("/v1/contacts", json=body)
        assert answer.status_code == 201, answer.text
        # Known in this agency only: another agency's supporter cannot name them.
        async with client(checkins, "OTHER01", Role.SUPPORTER, "S-Z") as elsewhere:
            across = await elsewhere.post("/v1/contacts", json=body)
        missing = {k: v for k, v in body.items() if k != "personnel_id"}
        assert (await supporter.post("/v1/contacts", json=missing)).status_code == 422
    for refused in (unknown, not_an_officer, across):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["loc"] == ["personnel_id"]
        assert "FREETEXT" not in refused.text
    [row] = await database_rows(checkins, ContactRow)
    assert row.officer_ref == officer_ref(PSEUDONYM_KEY, agency, "B555")


async def test_a_supporter_sees_their_officer_a_coordinator_sees_only_the_task(checkins, agency):
    mine, theirs = assigned(agency, "B100", "S-A"), assigned(agency, "B200", "S-B")
    await _scheduled(checkins, agency, mine, theirs)
    async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
        answer = await supporter.get("/v1/assignments")
    assert answer.status_code == 200
    [seen] = answer.json()
    assert (seen["personnel_id"], seen["supporter_id"]) == ("B100", "S-A")
    assert seen["current_offer"]["status"] == "scheduled"

    async with client(checkins, agency, Role.COORDINATOR) as coordinator:
        answer = await coordinator.get("/v1/assignments")
        checkins_open = await coordinator.get("/v1/checkins", params={"status": "open"})
    assert answer.status_code == 200
    assert {a["supporter_id"] for a in answer.json()} == {"S-A", "S-B"}
    assert all(a["personnel_id"] is None for a in answer.json())
    assert "B100" not in answer.text and "B200" not in answer.text
    assert len(checkins_open.json()) == 2 and "B100" not in checkins_open.text

    async with client(checkins, agency, Role.LEADERSHIP) as leader:
        assert (await leader.get("/v1/assignments")).status_code == 403
        assert (await leader.get("/v1/checkins")).status_code == 403
    async with client(checkins, "OTHER01", Role.COORDINATOR) as elsewhere:
        assert (await elsewhere.get("/v1/assignments")).json() == []

    audit = await database_rows(checkins, AuditRow)
    assert [(a.actor, a.action, a.object_id) for a in audit] == [
        ("S-A", "read", str(mine.assignment_id))
    ]
    assert {r.personnel_id for r in await database_rows(checkins, AssignmentRow)} == {
        "B100",
        "B200",
    }
