"""A trigger event becomes one message per recipient, over the recipient's channel,
however often the event arrives and however many replicas race for it. Real NATS, a
real SMTP server and webhook receiver, the real roster, both databases."""

from __future__ import annotations

import asyncio

from shared.events import NotificationSent
from shared.streams import EVENTS
from shared.tokens import Role
from shared.vocab import NotificationChannel
from tests.notify.scenario import (
    add_supporter,
    assigned,
    due,
    notify_settings,
    redeliver,
    running,
    status,
)
from tests.support.bus import EventLog, publish
from tests.support.waiting import await_until


async def test_an_assignment_is_emailed_to_the_supporter_once(
    nats_url, database_url, tmp_path, agency, roster, smtp
):
    await add_supporter(roster, agency, "S-1", {"email": "dana@example.org"})
    settings = notify_settings(
        nats_url, database_url, tmp_path / "notify", roster.url, smtp_url=smtp.url()
    )
    event = assigned(agency, "S-1")
    async with (
        running(settings, replicas=2) as (app, _),
        EventLog(nats_url, f"ps.{agency}.notification.*", EVENTS.name) as log,
    ):
        await publish(nats_url, event)
        await redeliver(nats_url, event)
        [sent] = await log.wait_for(NotificationSent)
        await await_until(lambda: smtp.mails, what="the email")
        await asyncio.sleep(1)  # room for a second message, which must not come
        rows = await status(app, agency)
    [mail] = smtp.mails
    assert mail.recipients == ["dana@example.org"]
    assert "new peer support assignment" in mail.text
    assert f"https://peerline.example.org/assignments/{event.assignment_id}" in mail.text
    assert (sent.cause_event_id, sent.recipient_id) == (event.event_id, "S-1")
    assert (sent.channel, sent.attempts) == (NotificationChannel.EMAIL, 1)
    assert len(log.of_type(NotificationSent)) == 1
    [row] = rows
    assert row["status"] == "sent" and row["channel"] == "email"
    assert row["notification_id"] == str(sent.notification_id)
    assert "body" not in row and "dana@example.org" not in str(row)


async def test_two_replicas_share_a_burst_and_send_each_message_once(
    nats_url, database_url, tmp_path, agency, roster, smtp
):
    supporters = [f"S-{n}" for n in range(6)]
    for supporter in supporters:
        await add_supporter(roster, agency, supporter, {"email": f"{supporter}@example.org"})
    settings = notify_settings(
        nats_url, database_url, tmp_path / "notify", roster.url, smtp_url=smtp.url()
    )
    events = [assigned(agency, supporter) for supporter in supporters for _ in range(3)]
    async with (
        running(settings, replicas=2) as (app, _),
        EventLog(nats_url, f"ps.{agency}.notification.*", EVENTS.name) as log,
    ):
        await publish(nats_url, *events)
        for event in events:
            await redeliver(nats_url, event)
        await log.wait_for(NotificationSent, count=len(events), timeout=30)
        await asyncio.sleep(1)  # room for repeats, which must not come
        rows = await status(app, agency, Role.OPS, status="sent")
    assert len(smtp.mails) == len(events) == len(rows)
    for supporter in supporters:
        assert len(smtp.to(f"{supporter}@example.org")) == 3
    sent = log.of_type(NotificationSent)
    assert sorted(str(e.cause_event_id) for e in sent) == sorted(str(e.event_id) for e in events)


async def test_a_supporter_from_another_agency_is_reached_through_their_own(
    nats_url, database_url, tmp_path, agency, roster, smtp
):
    """A regional-pool supporter belongs to another agency than the officer: the roster
    answers for them only to a token of their own agency, for the assignment and for its
    reminders (which name only the officer's agency)."""
    await add_supporter(roster, "REGION01", "S-R", {"email": "r@example.org"})
    settings = notify_settings(
        nats_url, database_url, tmp_path / "notify", roster.url, smtp_url=smtp.url()
    )
    event = assigned(agency, "S-R").model_copy(update={"supporter_agency_id": "REGION01"})
    async with (
        running(settings) as [app],
        EventLog(nats_url, f"ps.{agency}.notification.*", EVENTS.name) as log,
    ):
        await publish(nats_url, event)
        await log.wait_for(NotificationSent)
        await publish(nats_url, due(agency, "S-R", event.assignment_id))
        sent = await log.wait_for(NotificationSent, count=2)
        rows = await status(app, agency)
    assert {e.recipient_id for e in sent} == {"S-R"}
    assert len(smtp.to("r@example.org")) == 2
    assert {row["agency_id"] for row in rows} == {agency}  # the officer's agency's record
