"""`/v1/policies`: a coordinator sets the agency's check-in policy, and the offers keep
it. Here the follow-ups' gap after a contact: set, listed, refused out of bounds, and
kept by a follow-up on the bus. Real HTTP, real NATS, both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.events import CheckInScheduled
from shared.streams import CHECKINS
from shared.tokens import Role
from tests.checkins.scenario import COMPRESSED, assigned, compress_policy, contact
from tests.support.bus import EventLog, publish
from tests.support.clients import client


async def test_a_policy_names_its_follow_up_gap_or_keeps_the_default(checkins, agency):
    async with client(checkins, agency, Role.COORDINATOR) as coordinator:
        one_day = await coordinator.put(
            "/v1/policies/default", json={**COMPRESSED, "follow_up_min_gap": "P1D"}
        )
        in_seconds = await coordinator.put(
            "/v1/policies/fatal_collision", json={**COMPRESSED, "follow_up_min_gap": 3600}
        )
        unnamed = await coordinator.put("/v1/policies/mass_casualty", json=COMPRESSED)
        listed = (await coordinator.get("/v1/policies")).json()
    assert one_day.status_code == in_seconds.status_code == unnamed.status_code == 200
    assert one_day.json()["follow_up_min_gap"] == "P1D"
    assert in_seconds.json()["follow_up_min_gap"] == "PT1H"
    assert unnamed.json()["follow_up_min_gap"] == "P3D"
    gaps = {p["category"]: p["follow_up_min_gap"] for p in listed}
    assert (gaps["default"], gaps["fatal_collision"], gaps["mass_casualty"]) == (
        "P1D",
        "PT1H",
        "P3D",
    )
    assert gaps["line_of_duty_death"] == "P1D"  # none of its own: the agency's default


@pytest.mark.parametrize("gap", ["-PT1S", "P31D", "soon", None])
async def test_a_gap_outside_zero_to_a_month_is_refused_naming_it(checkins, agency, gap):
    async with client(checkins, agency, Role.COORDINATOR) as coordinator:
        answer = await coordinator.put(
            "/v1/policies/default", json={**COMPRESSED, "follow_up_min_gap": gap}
        )
        [default, *_] = (await coordinator.get("/v1/policies")).json()
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"].startswith("follow_up_min_gap: ")
    assert answer.json()["errors"][0]["loc"] == ["follow_up_min_gap"]
    assert default["updated_at"] is None  # nothing stored


async def test_a_follow_up_keeps_the_agencys_gap_after_a_contact(checkins, agency):
    """Planned at +5 s, the follow-up is held until a minute after the contact, with
    its whole window."""
    await compress_policy(checkins, agency, {**COMPRESSED, "follow_up_min_gap": "PT1M"})
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.*", CHECKINS.name) as log:
        await publish(checkins.nats_url, assigned(agency))
        [first] = await log.wait_for(CheckInScheduled)
        async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
            before = datetime.now(UTC)
            answer = await supporter.post("/v1/contacts", json=contact(first.checkin_id))
            after = datetime.now(UTC)
        assert answer.status_code == 201, answer.text
        _, follow_up = await log.wait_for(CheckInScheduled, count=2)
    gap = timedelta(minutes=1)
    assert before + gap <= follow_up.due_at <= after + gap
    assert follow_up.window_closes_at - follow_up.due_at == timedelta(seconds=2)
