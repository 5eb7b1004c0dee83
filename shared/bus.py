"""JetStream publishing and consuming the way every Peerline service must do it.

Publishing: always to JetStream (never a core publish), with `Nats-Msg-Id` = `event_id`,
an explicit timeout and a check that the ack names the stream we meant.

Consuming: durable pull consumers shared by all replicas of a service, one message at
a time. A handler that fails while its database is down holds the message until the
database returns; any other failure gets a delayed nack (the message comes back
later); a poison message, or any message on its last allowed delivery, goes to the
dead-letter stream with the reason, and is acknowledged so it never loops.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy, PubAck
from pydantic import ValidationError

from shared import cloudevents, subjects
from shared.events import Event
from shared.problems import field_errors
from shared.streams import StreamSpec, stream_for_subject
from shared.subjects import dlq_subject

log = logging.getLogger(__name__)


class Poison(Exception):
    """The message can never be processed; send it to the dead-letter stream."""


class PublishNotStored(Exception):
    """JetStream did not confirm storing the message in the expected stream."""


async def publish_raw(
    js: JetStreamContext,
    subject: str,
    payload: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
) -> PubAck:
    expected = stream_for_subject(subject).name
    ack = await js.publish(subject, payload, timeout=timeout, stream=expected, headers=headers)
    if ack.stream != expected or not ack.seq:
        raise PublishNotStored(subject)
    return ack


@dataclass(frozen=True)
class Delivery:
    """What a handler gets: the message as received, and how often it was delivered."""

    subject: str
    headers: dict[str, str]
    data: bytes
    stream_seq: int
    num_delivered: int


Handler = Callable[[Delivery], Awaitable[None]]


def event_of(delivery: Delivery) -> Event:
    """The event a delivery carries, parsed from its CloudEvents headers and payload.

    The agency in the subject, in `ce-agencyid` and in the payload must agree: a
    message that claims another agency than the subject it arrived on is refused
    (tenants are walled on the bus too), as is one that is not a v1 event.
    """
    try:
        event = cloudevents.decode(delivery.headers, delivery.data)
        agency = subjects.parse(delivery.subject).agency_id
    except ValueError as exc:
        raise Poison(str(exc)) from None
    if event.agency_id != agency or event.subject != delivery.subject:
        raise Poison("the event does not belong on this subject")
    return event


def describe(exc: BaseException) -> str:
    """A reason for the dead-letter record that echoes no payload values."""
    if isinstance(exc, ValidationError):
        errs = field_errors(exc.errors(include_input=False))
        return "invalid: " + "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in errs[:5]
        )
    if isinstance(exc, json.JSONDecodeError):
        return "invalid: body is not JSON"
    if isinstance(exc, Poison):
        return f"poison: {exc}"
    return type(exc).__name__


def retry_delay(num_delivered: int) -> float:
    return min(0.5 * 2 ** (num_delivered - 1), 30.0)


def subscribe(
    broker: NatsBroker,
    *,
    service: str,
    subject: str,
    durable: str,
    stream: StreamSpec,
    handler: Handler,
    dependencies_ok: Callable[[], Awaitable[bool]] | None = None,
    max_deliver: int = 5,
    deliver_policy: DeliverPolicy = DeliverPolicy.ALL,
    ack_wait: float = 30.0,
) -> None:
    """Register `handler` on a durable pull consumer with Peerline's delivery rules.

    When the handler fails and `dependencies_ok()` says a dependency (the database) is
    down, the message is not the problem: the consumer holds it, keeps it alive with
    in-progress acks, and runs the handler again once the dependency is back, so an
    outage never uses up deliveries or fills the dead-letter stream.
    """

    async def consume(msg: NatsMessage) -> None:
        raw = msg.raw_message
        meta = raw.metadata
        delivery = Delivery(
            subject=raw.subject,
            headers=dict(raw.headers or {}),
            data=raw.data,
            stream_seq=meta.sequence.stream,
            num_delivered=meta.num_delivered,
        )
        while True:
            try:
                await handler(delivery)
            except (Poison, ValidationError, json.JSONDecodeError, UnicodeDecodeError) as exc:
                await dead_letter(broker, service, durable, delivery, describe(exc))
                await msg.ack()
                return
            except Exception as exc:
                if dependencies_ok is not None and not await dependencies_ok():
                    await _hold_until(dependencies_ok, msg, durable)
                    continue
                if delivery.num_delivered >= max_deliver:
                    await dead_letter(broker, service, durable, delivery, describe(exc))
                    await msg.ack()
                    return
                delay = retry_delay(delivery.num_delivered)
                log.warning("%s: %s, retry in %.1fs", durable, type(exc).__name__, delay)
                await msg.nack(delay=delay)
                return
            await msg.ack()
            return

    consume.__name__ = f"consume_{durable.replace('-', '_')}"
    broker.subscriber(
        subject,
        stream=JStream(stream.name, declare=False),
        durable=durable,
        pull_sub=PullSub(batch_size=16, timeout=5.0),
        config=ConsumerConfig(
            durable_name=durable,
            max_deliver=max_deliver,
            ack_wait=ack_wait,
            deliver_policy=deliver_policy,
            filter_subject=subject,
        ),
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )(consume)


async def _hold_until(ok: Callable[[], Awaitable[bool]], msg: NatsMessage, durable: str) -> None:
    log.warning("%s: a dependency is down; holding the message until it returns", durable)
    delay = 0.2
    while not await ok():
        await msg.in_progress()  # not redelivered elsewhere while we wait
        await asyncio.sleep(delay)
        delay = min(delay * 2, 5.0)
    log.info("%s: dependency back; processing again", durable)


async def dead_letter(
    broker: NatsBroker, service: str, durable: str, delivery: Delivery, reason: str
) -> None:
    """Store the message in the dead-letter stream with why and where it came from."""
    headers = {k: v for k, v in delivery.headers.items() if not k.lower().startswith("nats-")}
    headers.update(
        {
            "Nats-Msg-Id": f"dlq:{durable}:{delivery.stream_seq}",
            "Peerline-Dlq-Reason": reason[:500],
            "Peerline-Dlq-Subject": delivery.subject,
            "Peerline-Dlq-Consumer": durable,
            "Peerline-Dlq-Stream-Seq": str(delivery.stream_seq),
            "Peerline-Dlq-Deliveries": str(delivery.num_delivered),
        }
    )
    js = broker.config.connection_state.stream
    subject = dlq_subject(service, durable)
    await asyncio.shield(publish_raw(js, subject, delivery.data, headers, timeout=5.0))
    log.warning("%s: dead-lettered stream seq %s: %s", durable, delivery.stream_seq, reason)
