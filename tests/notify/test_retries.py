"""Failures: a transient one is retried on the same channel with growing delays; a
channel that keeps failing is given up with `NotificationFailed`, and the recipient's
next channel delivers (`NotificationSent`). Real webhook receiver and SMTP server."""

from __future__ import annotations

from shared.events import NotificationFailed, NotificationSent
from shared.streams import EVENTS
from shared.vocab import NotificationChannel
from tests.notify.scenario import add_supporter, assigned, notify_settings, running, status
from tests.support.bus import EventLog, publish
from tests.support.waiting import await_until


async def test_a_failing_webhook_is_retried_then_the_email_delivers(
    nats_url, database_url, tmp_path, agency, roster, smtp, webhook
):
    webhook.failures = 1000  # every post answered 500
    contact = {"url": webhook.url(), "email": "dana@example.org"}
    await add_supporter(roster, agency, "S-1", contact)
    settings = notify_settings(
        nats_url,
        database_url,
        tmp_path / "notify",
        roster.url,
        smtp_url=smtp.url(),
        notify_attempts_per_channel=3,
        notify_retry_base=0.4,
    )
    event = assigned(agency, "S-1")
    async with (
        running(settings) as [app],
        EventLog(nats_url, f"ps.{agency}.notification.*", EVENTS.name) as log,
    ):
        await publish(nats_url, event)
        [sent] = await log.wait_for(NotificationSent, timeout=15)
        [row] = await status(app, agency)
    [failed] = log.of_type(NotificationFailed)
    assert [type(e) for e in log.events] == [NotificationFailed, NotificationSent]
    assert (failed.channel, failed.attempts) == (NotificationChannel.WEBHOOK, 3)
    assert (sent.channel, sent.attempts) == (NotificationChannel.EMAIL, 1)
    assert failed.notification_id == sent.notification_id
    assert failed.cause_event_id == sent.cause_event_id == event.event_id
    first, second, third = webhook.refused
    assert second - first >= 0.4 and third - second >= 0.8  # exponential backoff
    assert webhook.received == [] and len(smtp.to("dana@example.org")) == 1
    assert (row["status"], row["channel"]) == ("sent", "email")


async def test_a_transient_failure_is_retried_on_the_same_channel(
    nats_url, database_url, tmp_path, agency, roster, smtp, webhook
):
    webhook.failures = 2
    await add_supporter(roster, agency, "S-1", {"url": webhook.url(), "email": "d@example.org"})
    settings = notify_settings(
        nats_url, database_url, tmp_path / "notify", roster.url, smtp_url=smtp.url()
    )
    async with (
        running(settings),
        EventLog(nats_url, f"ps.{agency}.notification.*", EVENTS.name) as log,
    ):
        await publish(nats_url, assigned(agency, "S-1"))
        [sent] = await log.wait_for(NotificationSent, timeout=15)
        await await_until(lambda: webhook.received, what="the webhook post")
    assert (sent.channel, sent.attempts) == (NotificationChannel.WEBHOOK, 3)
    assert log.of_type(NotificationFailed) == [] and smtp.mails == []
    [post] = webhook.received
    assert "new peer support assignment" in post["message"]


async def test_a_recipient_without_any_channel_fails_visibly(
    nats_url, database_url, tmp_path, agency, roster
):
    await add_supporter(roster, agency, "S-1", {"email": "d@example.org"})  # no relay set
    settings = notify_settings(nats_url, database_url, tmp_path / "notify", roster.url)
    async with running(settings) as [app]:
        await publish(nats_url, assigned(agency, "S-1"), assigned(agency, "NOBODY"))

        async def settled():
            rows = await status(app, agency, status="failed")
            return rows if len(rows) == 2 else None

        rows = await await_until(settled, what="both deliveries to fail")
    assert {(r["recipient_id"], r["last_error"]) for r in rows} == {
        ("S-1", "no_channel"),
        ("NOBODY", "unknown_recipient"),
    }
