"""Timers are held by the bus: they survive a restart of the service and of the NATS
server, and one that came due meanwhile fires right after. Real NATS, both databases."""

from __future__ import annotations

import asyncio
import time

import httpx

from services.checkins.app import create_app
from shared.events import CheckInDue, CheckInScheduled
from shared.streams import CHECKINS
from shared.tokens import Role
from tests.checkins.scenario import assigned
from tests.conftest import bearer
from tests.support.bus import EventLog, publish
from tests.support.running import checkins_settings, on_the_bus

POLICY = {"first_offer_after": "PT4S", "window_closes_after": "PT60S", "follow_ups": []}


async def test_a_timer_due_while_everything_was_down_fires_right_after(
    nats_server, database_url, tmp_path, agency
):
    settings = checkins_settings(nats_server.url, database_url, tmp_path / "checkins")
    app = create_app(settings)
    async with on_the_bus(app.state.runtime):
        transport = httpx.ASGITransport(app=app)
        headers = bearer(agency, Role.COORDINATOR)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as c:
            assert (await c.put("/v1/policies/default", json=POLICY)).status_code == 200
        async with EventLog(nats_server.url, f"ps.{agency}.checkin.*", CHECKINS.name) as log:
            await publish(nats_server.url, assigned(agency))
            [offer] = await log.wait_for(CheckInScheduled)
    nats_server.kill()  # the service is stopped too, and the due time passes
    await asyncio.sleep(max(0.0, (offer.due_at.timestamp() - time.time()) + 1))
    nats_server.start()
    restarted = time.time()
    async with (
        on_the_bus(create_app(settings).state.runtime),
        EventLog(nats_server.url, f"ps.{agency}.checkin.*", CHECKINS.name) as log,
    ):
        [due] = await log.wait_for(CheckInDue, timeout=15)
    assert due.checkin_id == offer.checkin_id
    assert time.time() - restarted < 10
