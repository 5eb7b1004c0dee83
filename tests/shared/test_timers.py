"""Durable timers on a real server: they fire on time, once, and survive its restart."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import nats
import pytest
from nats.aio.msg import Msg

from shared import cloudevents, timers
from shared.streams import CHECKINS, provision
from shared.timers import Timer

LATE = timedelta(seconds=1)  # how late a firing may be stored


@pytest.fixture
async def js(nats_url):
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    yield js
    await nc.close()


def _in(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def _timer(agency: str, checkin: str, kind: str, fire_at: datetime, payload: bytes = b"{}"):
    return Timer(
        subject=f"ps.{agency}.checkin.timer.{checkin}.{kind}",
        fire_at=fire_at,
        target=f"ps.{agency}.checkin.fired.{kind}",
        payload=payload,
    )


async def _fired(js, agency: str, count: int, timeout: float = 10.0) -> list[Msg]:
    """The agency's fired timers, in the order they fired, once `count` have."""
    sub = await js.pull_subscribe(f"ps.{agency}.checkin.fired.>", stream=CHECKINS.name)
    msgs: list[Msg] = []
    deadline = time.monotonic() + timeout
    while len(msgs) < count and time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):  # nats-py raises its own and asyncio's
            msgs += await sub.fetch(100, timeout=0.5)
    await sub.unsubscribe()
    return msgs


async def _stored(js, agency: str) -> dict[str, int]:
    """How many messages each of the agency's check-in subjects holds."""
    info = await js.stream_info(CHECKINS.name, subjects_filter=f"ps.{agency}.checkin.>")
    return info.state.subjects or {}


async def test_a_timer_fires_at_its_time_to_its_target(js, agency):
    timer = replace(_timer(agency, "c1", "due", _in(1), b'{"n": 1}'), headers={"X-Kind": "due"})
    await timers.schedule(js, timer)
    [msg] = await _fired(js, agency, 1)
    assert msg.subject == timer.target and msg.data == b'{"n": 1}'
    assert msg.headers["X-Kind"] == "due" and msg.headers[timers.SCHEDULER] == timer.subject
    assert timer.fire_at <= msg.metadata.timestamp < timer.fire_at + LATE
    assert await _stored(js, agency) == {timer.target: 1}, "the timer is gone once fired"


async def test_a_timer_in_the_past_fires_at_once(js, agency):
    started = time.monotonic()
    await timers.schedule(js, _timer(agency, "c1", "due", _in(-3600)))
    assert len(await _fired(js, agency, 1)) == 1
    assert time.monotonic() - started < 2


async def test_cancelling_a_checkins_timers_keeps_them_from_firing(js, agency):
    await timers.schedule(js, _timer(agency, "c1", "due", _in(0.5), b"c1"))
    await timers.schedule(js, _timer(agency, "c1", "overdue", _in(0.5), b"c1"))
    await timers.schedule(js, _timer(agency, "c2", "due", _in(1), b"c2"))
    await timers.cancel(js, f"ps.{agency}.checkin.timer.c1.>")
    # Had c1's timers fired, they would have come first.
    assert [m.data for m in await _fired(js, agency, 1)] == [b"c2"]


async def test_scheduling_a_timer_again_replaces_it(js, agency):
    later, event = _in(1), {cloudevents.MSG_ID: "e1"}  # as on an event's headers
    first = _timer(agency, "c1", "due", _in(0.5), b"first")
    await timers.schedule(js, replace(first, headers=event))
    moved = replace(first, fire_at=later, payload=b"moved", headers=event)
    await timers.schedule(js, moved)
    await timers.schedule(js, moved)  # a retry
    [msg] = await _fired(js, agency, 1)
    assert msg.data == b"moved" and msg.metadata.timestamp >= later
    await asyncio.sleep(0.5)
    assert await _stored(js, agency) == {moved.target: 1}


async def test_a_batch_of_timers_fires_each_once(js, agency):
    batch = [_timer(agency, f"c{n}", "due", _in(1), str(n).encode()) for n in range(50)]
    assert await timers.schedule_many(js, batch) == (50, None)
    assert await timers.schedule_many(js, batch[:10]) == (10, None)
    assert sorted(int(m.data) for m in await _fired(js, agency, 50)) == list(range(50))
    await asyncio.sleep(0.5)
    assert await _stored(js, agency) == {batch[0].target: 50}


async def test_a_timer_outlives_the_streams_max_age(js, agency):
    config = (await js.stream_info(CHECKINS.name)).config
    await js.update_stream(replace(config, max_age=1.0, duplicate_window=1.0))
    timer = _timer(agency, "c1", "anniversary", _in(2.5))
    await timers.schedule(js, timer)
    [msg] = await _fired(js, agency, 1)
    assert msg.metadata.timestamp >= timer.fire_at


async def test_timers_survive_a_server_restart_and_a_missed_one_fires_after(nats_server, agency):
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await provision(js)
    missed = _timer(agency, "c1", "due", _in(1))
    pending = _timer(agency, "c2", "due", _in(4))
    await timers.schedule_many(js, [missed, pending])
    await nc.close()
    nats_server.stop()
    await asyncio.sleep(2)  # `missed` comes due while the server is down
    restarted = datetime.now(UTC)
    nats_server.start()
    nc = await nats.connect(nats_server.url)
    first, second = await _fired(nc.jetstream(), agency, 2)
    await nc.close()
    assert first.headers[timers.SCHEDULER] == missed.subject
    assert restarted <= first.metadata.timestamp < restarted + LATE
    assert second.headers[timers.SCHEDULER] == pending.subject
    assert pending.fire_at <= second.metadata.timestamp < pending.fire_at + LATE
