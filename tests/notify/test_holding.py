"""When a message may go: quiet hours hold reminders until they end in the recipient's
time zone, but never a new assignment after an officer-involved shooting or a line of
duty death; each recipient's rate limit holds the rest. Real NATS, SMTP and roster."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from shared.events import NotificationSent
from shared.streams import EVENTS
from shared.vocab import Category
from tests.notify.scenario import (
    add_supporter,
    assigned,
    due,
    notify_settings,
    quiet_now,
    running,
    status,
)
from tests.support.bus import EventLog, publish
from tests.support.waiting import await_until

ZONE = "America/Chicago"


async def test_quiet_hours_hold_reminders_but_not_an_urgent_assignment(
    nats_url, database_url, tmp_path, agency, roster, smtp
):
    quiet, ends = quiet_now(ZONE)
    await add_supporter(
        roster, agency, "S-1", {"email": "d@example.org"}, timezone=ZONE, quiet_hours=quiet
    )
    settings = notify_settings(
        nats_url, database_url, tmp_path / "notify", roster.url, smtp_url=smtp.url()
    )
    shooting = assigned(agency, "S-1", Category.OFFICER_INVOLVED_SHOOTING)
    death = assigned(agency, "S-1", Category.LINE_OF_DUTY_DEATH)
    routine = assigned(agency, "S-1", Category.FATAL_COLLISION)
    reminder = due(agency, "S-1", shooting.assignment_id)
    async with (
        running(settings) as [app],
        EventLog(nats_url, f"ps.{agency}.notification.*", EVENTS.name) as log,
    ):
        await publish(nats_url, shooting, death, routine, reminder)
        sent = await log.wait_for(NotificationSent, count=2)

        async def held():
            rows = await status(app, agency, status="pending")
            return rows if len(rows) == 2 and all(r["held_for"] for r in rows) else None

        waiting = await await_until(held, what="the reminder and routine assignment held")
        await asyncio.sleep(0.5)
    assert {e.cause_event_id for e in sent} == {shooting.event_id, death.event_id}
    assert len(smtp.mails) == 2
    assert {r["cause_event_id"] for r in waiting} == {str(routine.event_id), str(reminder.event_id)}
    for row in waiting:
        assert row["held_for"] == "quiet_hours"
        assert datetime.fromisoformat(row["next_attempt_at"]) == ends.astimezone(UTC)


async def test_the_rate_limit_holds_a_recipients_extra_messages(
    nats_url, database_url, tmp_path, agency, roster, smtp
):
    await add_supporter(roster, agency, "S-1", {"email": "d@example.org"})
    settings = notify_settings(
        nats_url,
        database_url,
        tmp_path / "notify",
        roster.url,
        smtp_url=smtp.url(),
        notify_rate_limit=2,
    )
    reminders = [due(agency, "S-1") for _ in range(3)]
    async with (
        running(settings) as [app],
        EventLog(nats_url, f"ps.{agency}.notification.*", EVENTS.name) as log,
    ):
        await publish(nats_url, *reminders)
        await log.wait_for(NotificationSent, count=2)

        async def held():
            rows = await status(app, agency, status="pending")
            return rows if rows and rows[0]["held_for"] else None

        [waiting] = await await_until(held, what="the third reminder held")
        urgent = assigned(agency, "S-1")
        await publish(nats_url, urgent)
        sent = await log.wait_for(NotificationSent, count=3)
        rows = await status(app, agency, status="sent")
    assert sent[-1].cause_event_id == urgent.event_id  # urgent goes past the limit
    assert len(smtp.mails) == 3
    assert waiting["held_for"] == "rate_limit"
    reminder_sent = [r for r in rows if r["kind"] == "checkin_due"]
    assert len(reminder_sent) == 2
    first_sent = min(datetime.fromisoformat(r["sent_at"]) for r in reminder_sent)
    assert datetime.fromisoformat(waiting["next_attempt_at"]) == first_sent + timedelta(hours=1)
