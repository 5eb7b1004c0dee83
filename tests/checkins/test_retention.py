"""Identifiable care records go once the care window has passed; what remains names
nobody. Tested by moving the clock, not by waiting. Real NATS, both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.checkins import retention
from services.checkins.app import create_app
from services.checkins.store import AssignmentRow, CheckInRow, ContactRow
from shared.events import CheckInClosed, CheckInScheduled
from shared.streams import CHECKINS
from shared.tokens import Role
from tests.checkins.scenario import assigned, contact, known_officer
from tests.support.bus import EventLog, publish
from tests.support.clients import client
from tests.support.database import database_rows
from tests.support.running import checkins_settings, on_the_bus


async def test_finished_care_is_purged_after_90_days_and_open_care_is_kept(
    checkins, agency, database_url, tmp_path
):
    done, ongoing = assigned(agency, "B1"), assigned(agency, "B2")
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.*", CHECKINS.name) as log:
        await publish(checkins.nats_url, done, ongoing)
        offers = {o.assignment_id: o for o in await log.wait_for(CheckInScheduled, count=2)}
        async with client(checkins, agency, Role.SUPPORTER, "S-A") as supporter:
            declined = contact(offers[done.assignment_id].checkin_id, outcome="declined")
            assert (await supporter.post("/v1/contacts", json=declined)).status_code == 201
            await known_officer(checkins, agency, "B3")
            lone = {**contact(None), "initiated_by": "self_referral", "personnel_id": "B3"}
            del lone["checkin_id"]
            assert (await supporter.post("/v1/contacts", json=lone)).status_code == 201
        await log.wait_for(CheckInClosed)

    settings = checkins_settings(checkins.nats_url, database_url, tmp_path / "job")
    async with on_the_bus(create_app(settings).state.runtime) as runtime:
        now = datetime.now(UTC)
        assert await retention.purge(runtime, now + timedelta(days=89)) == 0
        assert await retention.purge(runtime, now + timedelta(days=91)) == 2
    [kept] = await database_rows(checkins, AssignmentRow)
    assert kept.assignment_id == str(ongoing.assignment_id)
    assert {c.assignment_id for c in await database_rows(checkins, CheckInRow)} == {
        str(ongoing.assignment_id)
    }
    assert await database_rows(checkins, ContactRow) == []
