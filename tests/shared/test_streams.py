"""Streams are declared once and provisioned idempotently on a real server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import nats
import pytest

from shared.streams import ALL_STREAMS, CHECKINS, EVENTS, provision, stream_for_subject


async def test_provisioning_twice_creates_each_stream_once(nats_url):
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    await provision(js)
    names = {s.config.name for s in await js.streams_info()}
    assert names == {s.name for s in ALL_STREAMS}
    await nc.close()


async def test_provisioning_restores_our_settings_and_keeps_an_operators(nats_url):
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    info = await js.stream_info(EVENTS.name)
    # An operator caps the stream's size; someone else narrowed its subjects.
    await js.update_stream(replace(info.config, max_bytes=10_000_000, subjects=["ps.*.incident.*"]))
    await provision(js)
    config = (await js.stream_info(EVENTS.name)).config
    assert sorted(config.subjects) == sorted(EVENTS.subjects)
    assert config.max_bytes == 10_000_000
    await nc.close()


async def test_the_checkin_stream_fires_message_schedules(nats_url):
    """A durable timer: the server itself writes the target message when it is due."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    assert (await js.stream_info(CHECKINS.name)).config.allow_msg_schedules
    due = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sub = await js.subscribe("ps.A1.checkin.due", stream=CHECKINS.name, ordered_consumer=True)
    await js.publish(
        "ps.A1.checkin.timer.c1",
        b'{"checkin": "c1"}',
        stream=CHECKINS.name,
        headers={"Nats-Schedule": f"@at {due}", "Nats-Schedule-Target": "ps.A1.checkin.due"},
    )
    msg = await sub.next_msg(timeout=10)
    assert msg.data == b'{"checkin": "c1"}'
    await nc.close()


def test_every_event_subject_has_exactly_one_stream():
    from shared.events import ALL_EVENTS

    for cls in ALL_EVENTS:
        concrete = cls.subject_pattern().replace("*", "A1")
        assert stream_for_subject(concrete).name in {s.name for s in ALL_STREAMS}
    assert stream_for_subject("ps.A1.intake.incident").name == "PEERLINE_INTAKE"
    with pytest.raises(LookupError):
        stream_for_subject("ps.A1.gossip.heard")
