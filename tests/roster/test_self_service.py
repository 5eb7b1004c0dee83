"""A supporter's own page over real HTTP: their standing and load, and their own on-call
and leave, each change a real change of their record (SupporterUpdated through the
outbox, matching at once). Real NATS, both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from shared.events import AssignmentUnfilled, PeerAssigned, SupporterUpdated
from shared.streams import EVENTS
from shared.tokens import Role
from shared.vocab import InvolvedRole, UnfilledReason
from tests.conftest import bearer
from tests.roster.records import NAME, audited
from tests.roster.scenario import add_supporter, coordinator, publish, reported
from tests.support.bus import EventLog


def me(agency: str, supporter_id: str = "S-1") -> httpx.Headers:
    return httpx.Headers(bearer(agency, Role.SUPPORTER, supporter_id))


def at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_a_supporter_reads_their_standing_and_their_load(roster, agency):
    today = datetime.now(UTC).date()
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-1", "PSO-1", max_open_assignments=2)
        soon = {"completed_on": "2024-01-01", "expires_on": str(today + timedelta(days=10))}
        await client.put("/v1/supporters/S-1/training/self_care", json=soon)
        extra = {"completed_on": "2024-01-01", "expires_on": "2024-06-01"}
        await client.put("/v1/settings", json={"required_training": ["self_care"]})
        await client.put("/v1/supporters/S-1/training/active_listening", json=extra)
    async with EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name) as log:
        await publish(roster.nats_url, reported(agency, ("B1", InvolvedRole.PRIMARY)))
        await log.wait_for(PeerAssigned)
    async with httpx.AsyncClient(base_url=roster.url, headers=me(agency)) as client:
        page = await client.get("/v1/me")
    assert page.status_code == 200, page.text
    view = page.json()
    assert {k: view[k] for k in ("supporter_id", "agency_id", "display_name", "active")} == {
        "supporter_id": "S-1",
        "agency_id": agency,
        "display_name": NAME,
        "active": True,
    }
    assert (view["open_assignments"], view["max_open_assignments"]) == (1, 2)
    assert (view["certified_until"], view["certified_now"]) == ("2030-06-30", True)
    standing = {t["area"]: (t["status"], t["required"]) for t in view["training"]}
    assert standing == {
        "active_listening": ("expired", False),  # not required: listed, not counted
        "confidentiality_and_law": ("current", False),
        "crisis_deescalation": ("current", False),
        "ptsd_depression_anxiety_suicide": ("current", False),
        "self_care": ("expiring", True),
    }
    assert (view["on_call_now"], view["available_now"], view["timezone"]) == (False, True, "UTC")
    assert view["on_call"] == view["leave"] == []
    assert await audited(roster) == [("S-1", "supporter", "S-1")]  # their own record, read


async def test_on_call_and_leave_are_real_changes_that_matching_sees(roster, agency):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-1", "PSO-1")
    updates = EventLog(roster.nats_url, f"ps.{agency}.roster.supporter_updated", EVENTS.name)
    assignments = EventLog(roster.nats_url, f"ps.{agency}.assignment.*", EVENTS.name)
    async with (
        updates,
        assignments,
        httpx.AsyncClient(base_url=roster.url, headers=me(agency)) as client,
    ):
        await updates.wait_for(SupporterUpdated)  # the coordinator's put
        before = datetime.now(UTC).replace(microsecond=0)
        on = await client.put("/v1/me/on-call", json={"on_call": True, "hours": 2})
        longer = await client.put("/v1/me/on-call", json={"on_call": True})
        off = await client.put("/v1/me/on-call", json={"on_call": False})
        off_again = await client.put("/v1/me/on-call", json={"on_call": False})
        await updates.wait_for(SupporterUpdated, count=4)
        start, end = datetime.now(UTC) - timedelta(minutes=1), datetime.now(UTC) + timedelta(days=4)
        away = await client.post("/v1/me/leave", json={"start": at(start), "end": at(end)})
        await updates.wait_for(SupporterUpdated, count=5)
        await publish(roster.nats_url, reported(agency, ("B1", InvolvedRole.PRIMARY)))
        [unfilled] = await assignments.wait_for(AssignmentUnfilled)
        back = await client.delete("/v1/me/leave")
        back_again = await client.delete("/v1/me/leave")
        await updates.wait_for(SupporterUpdated, count=6)
        await publish(roster.nats_url, reported(agency, ("B2", InvolvedRole.PRIMARY)))
        [assigned] = await assignments.wait_for(PeerAssigned)
        coordinators_view = await client.get(
            "/v1/supporters/S-1", headers=bearer(agency, Role.COORDINATOR)
        )
    for answer in (on, longer, off, off_again, away, back, back_again):
        assert answer.status_code == 200, answer.text
    [shift] = on.json()["on_call"]
    started = datetime.fromisoformat(shift["start"])
    assert before <= started <= datetime.now(UTC)
    assert datetime.fromisoformat(shift["end"]) - started == timedelta(hours=2)
    assert on.json()["on_call_now"] is True
    [longest] = longer.json()["on_call"]  # the current period replaced, not added to
    assert datetime.fromisoformat(longest["end"]) - datetime.fromisoformat(
        longest["start"]
    ) == timedelta(hours=12)
    assert (off.json()["on_call_now"], off.json()["on_call"]) == (False, [])
    assert away.json()["available_now"] is False and len(away.json()["leave"]) == 1
    assert unfilled.reason == UnfilledReason.NONE_AVAILABLE  # on leave: nobody to assign
    assert back.json()["leave"] == [] and back.json()["available_now"] is True
    assert assigned.personnel_id == "B2" and assigned.supporter_id == "S-1"
    availability = coordinators_view.json()["availability"]
    assert availability["on_call"] == availability["leave"] == []
    # Off call again, and no leave left to cancel: nothing changed, nothing published.
    assert len(updates.of_type(SupporterUpdated)) == 6
    assert all(e.supporter_id == "S-1" for e in updates.of_type(SupporterUpdated))


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    [
        ("PUT", "/v1/me/on-call", {"on_call": True, "hours": 0}, ["hours"]),
        ("PUT", "/v1/me/on-call", {"on_call": True, "hours": 73}, ["hours"]),
        ("PUT", "/v1/me/on-call", {"hours": 4}, ["on_call"]),
        ("PUT", "/v1/me/on-call", {"on_call": True, "note": "x"}, ["note"]),
        (
            "POST",
            "/v1/me/leave",
            {"start": "2030-01-02T00:00:00Z", "end": "2030-01-01T00:00:00Z"},
            ["end"],
        ),
        (
            "POST",
            "/v1/me/leave",
            {"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"},
            ["end"],
        ),
        ("POST", "/v1/me/leave", {"start": "2030-01-01T00:00", "end": "2030-01-02"}, ["start"]),
        ("POST", "/v1/me/leave", {"start": "2030-01-01T00:00:00Z"}, ["end"]),
    ],
)
async def test_a_bad_change_names_the_field(roster, agency, method, path, body, loc):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-1", "PSO-1")
    async with httpx.AsyncClient(base_url=roster.url, headers=me(agency)) as client:
        answer = await client.request(method, path, json=body)
        page = await client.get("/v1/me")
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["loc"] == loc
    assert page.json()["on_call"] == page.json()["leave"] == []


async def test_a_removed_or_unknown_supporter_has_no_page(roster, agency):
    async with coordinator(roster, agency) as client:
        await add_supporter(client, agency, "S-1", "PSO-1")
        await client.delete("/v1/supporters/S-1")
    async with httpx.AsyncClient(base_url=roster.url) as client:
        answers = [
            await client.request(method, path, json=body, headers=me(agency, who))
            for who in ("S-1", "NOBODY")
            for method, path, body in (
                ("GET", "/v1/me", None),
                ("PUT", "/v1/me/on-call", {"on_call": True}),
                (
                    "POST",
                    "/v1/me/leave",
                    {"start": at(datetime.now(UTC)), "end": "2099-01-01T00:00:00Z"},
                ),
                ("DELETE", "/v1/me/leave", None),
            )
        ]
        others = [
            await client.get("/v1/me", headers=bearer(agency, role, "S-1"))
            for role in (Role.OFFICER, Role.COORDINATOR, Role.SERVICE)
        ]
    assert [answer.status_code for answer in answers] == [404] * 8
    assert [answer.status_code for answer in others] == [403] * 3
