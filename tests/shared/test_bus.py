"""Delivery rules on a real server: dedupe by event id, retry with delay, dead letters."""

from __future__ import annotations

import contextlib
import json

import nats
import pytest

from shared import bus, cloudevents
from shared.events import FeedbackSubmitted
from shared.streams import DLQ, EVENTS, provision
from tests.support.waiting import await_until


async def test_publishing_the_same_event_twice_stores_it_once(nats_url):
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    event = FeedbackSubmitted(agency_id="A1", rating=4, would_recommend=True)
    payload, headers = cloudevents.encode(event, source="test")
    first = await bus.publish_raw(js, event.subject, payload, headers, timeout=2)
    again = await bus.publish_raw(js, event.subject, payload, headers, timeout=2)
    assert first.stream == EVENTS.name and not first.duplicate
    assert again.duplicate and again.seq == first.seq
    assert (await js.stream_info(EVENTS.name)).state.messages == 1
    await nc.close()


async def test_a_subject_outside_every_stream_is_refused(nats_url):
    nc = await nats.connect(nats_url)
    with pytest.raises(LookupError):
        await bus.publish_raw(nc.jetstream(), "ps.A1.gossip.heard", b"{}", {}, timeout=1)
    await nc.close()


@contextlib.asynccontextmanager
async def _consumer(nats_url, handler, max_deliver=3):
    """A bus consumer applying `handler` to each message of every batch."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)

    async def each(items: list[bus.Received]) -> None:
        for item in items:
            await handler(item.delivery)

    consumer = bus.Consumer(
        js=lambda: js,
        service="test",
        subject="ps.*.feedback.submitted",
        durable="test-feedback",
        stream=EVENTS,
        decode=lambda delivery: delivery,
        handler=each,
        max_deliver=max_deliver,
    )
    consumer.start()
    try:
        yield js
    finally:
        await consumer.stop()
        await nc.close()


async def _publish_feedback(js) -> FeedbackSubmitted:
    event = FeedbackSubmitted(agency_id="A1", rating=5, would_recommend=True)
    payload, headers = cloudevents.encode(event, source="test")
    await bus.publish_raw(js, event.subject, payload, headers, timeout=2)
    return event


async def _dead_letters(js) -> list:
    sub = await js.pull_subscribe("peerline.dlq.>", stream=DLQ.name)
    try:
        return await sub.fetch(10, timeout=0.5)
    except TimeoutError:  # nats-py raises both its own and asyncio's
        return []


async def test_a_transient_error_is_retried_and_then_handled_once(nats_url, monkeypatch):
    monkeypatch.setattr(bus, "retry_delay", lambda n: 0.05)
    calls: list[int] = []
    handled: list[str] = []

    async def flaky(delivery: bus.Delivery) -> None:
        calls.append(delivery.num_delivered)
        if delivery.num_delivered < 2:
            raise ConnectionError("database went away")
        handled.append(json.loads(delivery.data)["event_id"])

    async with _consumer(nats_url, flaky) as js:
        event = await _publish_feedback(js)
        await await_until(lambda: handled, what="handled")
        assert handled == [str(event.event_id)]
        assert calls == [1, 2]
        assert await _dead_letters(js) == []


async def test_a_poison_message_goes_to_the_dead_letter_stream_at_once(nats_url):
    calls: list[int] = []

    async def strict(delivery: bus.Delivery) -> None:
        calls.append(delivery.num_delivered)
        raise bus.Poison("unknown schema")

    async with _consumer(nats_url, strict) as js:
        await _publish_feedback(js)
        dead = await await_until(lambda: _dead_letters(js), what="dead letter")
    assert calls == [1]
    headers = dead[0].headers
    assert headers["Peerline-Dlq-Reason"] == "poison: unknown schema"
    assert headers["Peerline-Dlq-Subject"] == "ps.A1.feedback.submitted"
    assert headers["Peerline-Dlq-Consumer"] == "test-feedback"
    assert dead[0].subject == "peerline.dlq.test.test-feedback"


async def test_a_message_that_always_fails_is_dead_lettered_after_max_deliver(
    nats_url, monkeypatch
):
    monkeypatch.setattr(bus, "retry_delay", lambda n: 0.05)
    calls: list[int] = []

    async def broken(delivery: bus.Delivery) -> None:
        calls.append(delivery.num_delivered)
        raise RuntimeError("bug")

    async with _consumer(nats_url, broken, max_deliver=3) as js:
        await _publish_feedback(js)
        dead = await await_until(lambda: _dead_letters(js), what="dead letter")
    assert calls == [1, 2, 3]
    assert dead[0].headers["Peerline-Dlq-Reason"] == "RuntimeError"
    assert dead[0].headers["Peerline-Dlq-Deliveries"] == "3"


def _delivery(event, subject=None, **header_changes) -> bus.Delivery:
    payload, headers = cloudevents.encode(event, source="test")
    return bus.Delivery(
        subject=subject or event.subject,
        headers={**headers, **header_changes},
        data=payload,
        stream_seq=1,
        num_delivered=1,
    )


def test_a_consumer_gets_the_event_its_delivery_carries():
    event = FeedbackSubmitted(agency_id="A1", rating=2, would_recommend=False)
    assert bus.event_of(_delivery(event)) == event


def test_an_event_claiming_another_agency_than_its_subject_is_poison():
    event = FeedbackSubmitted(agency_id="A1", rating=2, would_recommend=False)
    with pytest.raises(bus.Poison):
        bus.event_of(_delivery(event, subject="ps.B2.feedback.submitted"))
    with pytest.raises(bus.Poison):
        bus.event_of(_delivery(event, **{"ce-type": "peerline.feedback.submitted.v9"}))


async def test_publish_many_counts_what_is_stored_in_order_up_to_the_first_failure(nats_url):
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    events = [FeedbackSubmitted(agency_id="A1", rating=r, would_recommend=True) for r in (1, 2)]
    messages = [(e.subject, *cloudevents.encode(e, source="test")) for e in events]
    stored, error = await bus.publish_many(js, messages, timeout=2)
    assert (stored, error) == (2, None)
    again = [*messages[:1], ("ps.A1.gossip.heard", b"{}", {}), *messages[1:]]
    stored, error = await bus.publish_many(js, again, timeout=2)
    assert stored == 1 and isinstance(error, LookupError)  # no stream stores that subject
    assert (await js.stream_info(EVENTS.name)).state.messages == 2  # repeats deduplicated
    await js.delete_stream(EVENTS.name)
    stored, error = await bus.publish_many(js, messages, timeout=2)
    assert stored == 0 and error is not None  # nothing confirmed, nothing counted
    await nc.close()
