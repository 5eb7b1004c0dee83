"""Finished notifications are forgotten once the retention period has passed; waiting
ones are kept. Tested by moving the clock. Real NATS, SMTP and roster, both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notify import retention
from shared.events import NotificationSent
from shared.streams import EVENTS
from tests.notify.scenario import (
    add_coordinator,
    add_supporter,
    assigned,
    due,
    notify_settings,
    quiet_now,
    running,
    status,
    unfilled,
)
from tests.support.bus import EventLog, publish
from tests.support.waiting import await_until


async def test_finished_notifications_go_after_the_retention_period(
    nats_url, database_url, tmp_path, agency, roster, smtp
):
    quiet, _ = quiet_now("UTC")
    await add_supporter(roster, agency, "S-1", {"email": "a@example.org"})
    await add_supporter(roster, agency, "S-Q", {"email": "q@example.org"}, quiet_hours=quiet)
    await add_coordinator(roster, agency, "C-1", {"email": "c@example.org"})
    settings = notify_settings(
        nats_url, database_url, tmp_path / "notify", roster.url, smtp_url=smtp.url()
    )
    async with (
        running(settings) as [app],
        EventLog(nats_url, f"ps.{agency}.notification.*", EVENTS.name) as log,
    ):
        await publish(nats_url, assigned(agency, "S-1"), unfilled(agency), due(agency, "S-Q"))
        await log.wait_for(NotificationSent, count=2)
        await await_until(lambda: _held(app, agency), what="the reminder held")
        runtime = app.state.runtime
        now = datetime.now(UTC)
        assert await retention.purge(runtime, now + timedelta(days=89)) == 0
        assert await retention.purge(runtime, now + timedelta(days=91)) == 3  # with a fan-out
        [kept] = await status(app, agency)
    assert (kept["recipient_id"], kept["status"]) == ("S-Q", "pending")


async def _held(app, agency) -> bool:
    return any(row["held_for"] for row in await status(app, agency, status="pending"))
