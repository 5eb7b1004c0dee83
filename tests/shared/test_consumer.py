"""The kernel's batched consumer on a real NATS server and both databases: a batch is
one transaction, and the delivery rules still hold message by message."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import replace

import nats
import pytest
from nats.aio.msg import Msg

from shared import bus, cloudevents
from shared.events import FeedbackSubmitted
from shared.streams import DLQ, EVENTS, provision
from tests.support.effects import effect_count, effects, effects_runtime
from tests.support.running import on_the_bus
from tests.support.waiting import await_until


async def _publish(js, events: list[FeedbackSubmitted]) -> None:
    for event in events:
        payload, headers = cloudevents.encode(event, source="test")
        await bus.publish_raw(js, event.subject, payload, headers, timeout=5)


def _feedback(n: int, agencies=("A1",)) -> list[FeedbackSubmitted]:
    return [
        FeedbackSubmitted(agency_id=agencies[i % len(agencies)], rating=5, would_recommend=True)
        for i in range(n)
    ]


async def _settled(js, durable: str = "effects") -> bool:
    info = await js.consumer_info(EVENTS.name, durable)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def _dead_letters(js) -> list[Msg]:
    if (await js.stream_info(DLQ.name)).state.messages == 0:
        return []
    sub = await js.pull_subscribe("peerline.dlq.>", stream=DLQ.name)
    return await sub.fetch(100, timeout=2)


@pytest.fixture
async def js(nats_url):
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    yield js
    await nc.close()


async def test_a_batch_of_100_with_one_poison_message(js, nats_url, database_url, tmp_path):
    """One undecodable message and one the handler refuses: 98 effects in all, two dead
    letters, every effect once, and the whole rest applied as batches."""
    events = _feedback(100)
    refused = events[60].event_id
    batches: list[int] = []

    async def refuse_one(items) -> None:
        batches.append(len(items))
        if any(i.value.event_id == refused for i in items):
            raise bus.Poison("refused by the handler")

    await _publish(js, events[:30])
    await js.publish("ps.A1.feedback.submitted", b"not an event")  # undecodable
    await _publish(js, events[30:99])
    runtime = effects_runtime(nats_url, database_url, tmp_path, before_apply=refuse_one)
    async with on_the_bus(runtime):
        await await_until(lambda: _settled(js), timeout=30, what="all settled")
        rows = await effects(runtime)
    assert len(rows) == 98
    assert Counter(r.event_id for r in rows).most_common(1)[0][1] == 1
    assert str(refused) not in {r.event_id for r in rows}
    dead = await _dead_letters(js)
    assert sorted(d.headers["Peerline-Dlq-Reason"] for d in dead) == [
        "poison: missing CloudEvents header ce-specversion",
        "poison: refused by the handler",
    ]
    assert batches[0] == 99, "the waiting messages were not applied as one batch"


async def test_a_consumer_killed_after_commit_and_before_acks(
    js, nats_url, database_url, tmp_path, monkeypatch
):
    """The redelivered batch finds its inbox marks: no second effect, no second event."""
    # The durable as the service would make it, but redelivering after one second.
    config = effects_runtime(nats_url, database_url, tmp_path).consumers[0]._config
    await js.add_consumer(EVENTS.name, replace(config, ack_wait=1.0))
    await _publish(js, _feedback(100))

    async def never(_msg) -> None:
        await asyncio.Event().wait()  # the process dies before it acks

    first = effects_runtime(nats_url, database_url, tmp_path)
    with monkeypatch.context() as patched:
        patched.setattr(Msg, "ack", never)
        async with on_the_bus(first):
            await await_until(lambda: _count_is(first, 100), timeout=30, what="committed")
    second = effects_runtime(nats_url, database_url, tmp_path)
    async with on_the_bus(second):
        await await_until(lambda: _settled(js), timeout=30, what="redelivered and acked")
        assert await effect_count(second) == 100
        info = await js.consumer_info(EVENTS.name, "effects")
        assert info.delivered.consumer_seq >= 200, "the batch was not redelivered"
    assert await _stored_on(js, "ps.A1.notification.sent") == 100


async def _count_is(runtime, n: int) -> bool:
    return await effect_count(runtime) == n


async def _stored_on(js, subject: str) -> int:
    info = await js.stream_info(EVENTS.name, subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


async def test_order_per_subject_holds_through_batches_and_retries(
    js, nats_url, database_url, tmp_path, monkeypatch
):
    """Three agencies' events interleaved; some fail once. Each subject's effects come
    in the order its events were published."""
    monkeypatch.setattr(bus, "retry_delay", lambda n: 0.2)
    events = _feedback(300, agencies=("A1", "B2", "C3"))
    flaky = {events[i].event_id for i in (5, 40, 41, 150, 299)}
    failed: set = set()

    async def fail_once(items) -> None:
        for i in items:
            if i.value.event_id in flaky and i.value.event_id not in failed:
                failed.add(i.value.event_id)
                raise ConnectionError("transient")

    await _publish(js, events[:120])
    runtime = effects_runtime(
        nats_url, database_url, tmp_path, before_apply=fail_once, max_batch=32
    )
    async with on_the_bus(runtime):
        await _publish(js, events[120:])
        await await_until(lambda: _count_is(runtime, 300), timeout=60, what="all applied")
        rows = await effects(runtime)
    assert failed == flaky
    by_subject = defaultdict(list)
    for row in rows:
        by_subject[row.subject].append(row.stream_seq)
    assert set(by_subject) == {f"ps.{a}.feedback.submitted" for a in ("A1", "B2", "C3")}
    for seqs in by_subject.values():
        assert seqs == sorted(seqs)
    assert len({r.event_id for r in rows}) == 300


async def test_two_replicas_on_one_durable_have_one_effect_per_event(
    js, nats_url, database_url, tmp_path
):
    await _publish(js, _feedback(200, agencies=("A1", "B2")))
    one = effects_runtime(nats_url, database_url, tmp_path / "one", max_batch=16)
    two = effects_runtime(nats_url, database_url, tmp_path / "two", max_batch=16)
    async with on_the_bus(one), on_the_bus(two):
        await _publish(js, _feedback(200, agencies=("A1", "B2")))
        await await_until(lambda: _settled(js), timeout=60, what="all settled")
        rows = await effects(one)
    assert len(rows) == 400
    assert len({r.event_id for r in rows}) == 400
    assert (await js.stream_info(DLQ.name)).state.messages == 0
