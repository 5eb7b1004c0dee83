"""JetStream publishing and consuming the way every Peerline service must do it.

Publishing: always to JetStream (never a core publish), with `Nats-Msg-Id` = `event_id`,
an explicit timeout and a check that the ack names the stream we meant.

Consuming: a `Consumer` is a durable pull consumer, shared by all replicas of a service,
that takes whatever is waiting (up to `max_batch`) and hands it to the handler as one
batch, which the handler applies in one transaction; then every message is acked. The
delivery rules still hold message by message:

- a message that cannot be decoded (poison) goes to the dead-letter stream at once;
- when a batch fails, it is applied again one message at a time, so the culprit is
  isolated and the others still take effect;
- a message that fails alone gets a delayed nack (it comes back later) until its last
  allowed delivery, when it goes to the dead-letter stream; later messages on the same
  subject are sent back to wait behind it, so order per subject holds;
- while a dependency (the database) is down, the batch is held with in-progress acks
  and applied once it returns: an outage spends no deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, PubAck
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from pydantic import ValidationError

from shared import cloudevents, subjects
from shared.events import Event
from shared.problems import field_errors
from shared.streams import StreamSpec, stream_for_subject
from shared.subjects import dlq_subject

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_BATCH = 256
FETCH_WAIT = 5.0  # a fetch waits this long for a first message, then asks again


class Poison(Exception):
    """The message can never be processed; send it to the dead-letter stream."""


POISON = (Poison, ValidationError, json.JSONDecodeError, UnicodeDecodeError)


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
    return check_stored(ack, expected, subject)


def check_stored(ack: PubAck, expected: str, subject: str) -> PubAck:
    """The ack, if it says `expected` stored the message."""
    if ack.stream != expected or not ack.seq:
        raise PublishNotStored(subject)
    return ack


Outgoing = tuple[str, bytes, dict[str, str]]  # subject, payload, headers


async def publish_many(
    js: JetStreamContext, messages: Sequence[Outgoing], *, timeout: float
) -> tuple[int, BaseException | None]:
    """Publish `messages` in order with all of them in flight, then await their acks.

    Returns how many, counted from the first, are confirmed stored in their expected
    stream, and the error that stopped the count (None if all were). Messages after a
    failed one may be stored too; publishing them again is harmless (`Nats-Msg-Id`).
    Sent in order on one connection, they are stored in order.
    """
    sent: list[tuple[str, str, asyncio.Future]] = []
    try:
        for subject, payload, headers in messages:
            expected = stream_for_subject(subject).name
            future = await js.publish_async(subject, payload, stream=expected, headers=headers)
            sent.append((subject, expected, future))
    except Exception as exc:  # the rest is not sent; count what was
        error: BaseException | None = exc
    else:
        error = None
    if sent:
        await asyncio.wait([f for _, _, f in sent], timeout=timeout)
    stored = 0
    for subject, expected, future in sent:
        if not future.done():
            error = TimeoutError(f"no ack within {timeout}s")
            break
        try:
            check_stored(future.result(), expected, subject)
        except Exception as exc:
            error = exc
            break
        stored += 1
    for _, _, future in sent[stored:]:
        future.cancel()
    return stored, error


@dataclass(frozen=True)
class Delivery:
    """A message as received, and how often it was delivered."""

    subject: str
    headers: dict[str, str]
    data: bytes
    stream_seq: int
    num_delivered: int

    @classmethod
    def of(cls, msg: Msg) -> Delivery:
        meta = msg.metadata
        return cls(
            subject=msg.subject,
            headers=dict(msg.headers or {}),
            data=msg.data,
            stream_seq=meta.sequence.stream,
            num_delivered=meta.num_delivered,
        )


@dataclass(frozen=True)
class Received(Generic[T]):
    """What a batch handler gets for each message: the delivery, what `decode` made of
    it, and the trace context of its processing (events it causes belong there)."""

    delivery: Delivery
    value: T
    trace: Context = field(default_factory=Context, repr=False, compare=False)


Decode = Callable[[Delivery], T]
BatchHandler = Callable[[list[Received[T]]], Awaitable[None]]


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


@dataclass
class _InFlight:
    """One fetched message on its way through a batch."""

    msg: Msg
    item: Received[Any]
    span: trace.Span


class Consumer(Generic[T]):
    """A durable pull consumer that applies what is waiting in batches.

    One task per consumer per process fetches, applies and settles a batch before it
    fetches the next, so a process applies messages in stream order. Replicas share the
    durable: each fetch hands a replica messages no other replica holds.
    """

    def __init__(
        self,
        *,
        js: Callable[[], JetStreamContext | None],
        service: str,
        subject: str,
        durable: str,
        stream: StreamSpec,
        decode: Decode[T],
        handler: BatchHandler[T],
        dependencies_ok: Callable[[], Awaitable[bool]] | None = None,
        tracer: trace.Tracer | None = None,
        max_batch: int = MAX_BATCH,
        max_deliver: int = 5,
        deliver_policy: DeliverPolicy = DeliverPolicy.ALL,
        ack_wait: float = 30.0,
    ) -> None:
        self.service = service
        self.subject = subject
        self.durable = durable
        self.stream = stream
        self.max_batch = max_batch
        self.max_deliver = max_deliver
        self._js = js
        self._decode = decode
        self._handler = handler
        self._dependencies_ok = dependencies_ok
        self._tracer = tracer or trace.get_tracer(__name__)
        self._span_name = f"{durable} process"  # one span per message, in its trace
        self._config = ConsumerConfig(
            # With a name, the filter is part of the creating request's subject, which
            # NATS permissions can then hold to the one the service may read.
            name=durable,
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            max_deliver=max_deliver,
            ack_wait=ack_wait,
            deliver_policy=deliver_policy,
            filter_subject=subject,
            # Room for a whole batch to wait for its retry while the next one is fetched.
            max_ack_pending=max(1000, 4 * max_batch),
        )
        self._ack_wait = ack_wait
        self._task: asyncio.Task | None = None
        self._stopping = False
        # Per subject, messages sent back for a retry (stream seq: when they are due
        # back); later messages on the subject wait behind them.
        self._parked: dict[str, dict[int, float]] = {}
        self._subscription: JetStreamContext.PullSubscription | None = None
        self.subscribed = False  # the durable exists and this process is bound to it

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consume-{self.durable}")

    async def stop(self) -> None:
        self._stopping = True
        # nats-py can swallow a cancellation that lands as a fetch completes: cancel
        # until the task has ended.
        while self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.wait([self._task], timeout=1.0)
        await self._unsubscribe()  # or draining the connection waits for its queue

    async def _unsubscribe(self) -> None:
        if self._subscription is not None:
            with contextlib.suppress(Exception):
                await self._subscription.unsubscribe()
        self._subscription = None
        self.subscribed = False

    async def _run(self) -> None:
        backoff = 0.2
        while not self._stopping:
            try:
                js = self._js()
                if js is None:
                    await asyncio.sleep(backoff)  # not connected yet
                    continue
                if self._subscription is None:
                    self._subscription = await js.pull_subscribe(
                        self.subject,
                        durable=self.durable,
                        stream=self.stream.name,
                        config=self._config,
                    )
                    self.subscribed = True
                try:
                    msgs = await self._subscription.fetch(self.max_batch, timeout=FETCH_WAIT)
                except (TimeoutError, NatsTimeoutError):
                    continue
                await self.process(js, msgs)
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Unsettled messages come back after ack_wait; start over on a fresh
                # subscription (the server may have lost the consumer with its store).
                log.warning("%s: %s; retrying in %.1fs", self.durable, type(exc).__name__, backoff)
                await self._unsubscribe()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def process(self, js: JetStreamContext, msgs: list[Msg]) -> None:
        """Decode, apply and settle one fetched batch."""
        batch: list[_InFlight] = []
        for msg in msgs:
            delivery = Delivery.of(msg)
            if await self._behind_retry(msg, delivery):
                continue
            span = self._tracer.start_span(
                self._span_name,
                context=propagate.extract(delivery.headers),
                kind=trace.SpanKind.CONSUMER,
            )
            try:
                value = self._decode(delivery)
            except Exception as exc:  # decoding is pure: what fails once always fails
                await self._dead_letter(js, msg, delivery, exc)
                span.end()
                continue
            item = Received(delivery, value, trace.set_span_in_context(span))
            batch.append(_InFlight(msg, item, span))
        if not batch:
            return
        try:
            await self._apply(batch)
        except Exception as exc:
            if len(batch) == 1:
                await self._settle_failure(js, batch[0], exc)
                return
            log.info("%s: a batch of %d failed; applying one by one", self.durable, len(batch))
            for f in batch:
                await self._apply_alone(js, f)
            return
        for f in batch:
            await self._settled(f)

    async def _behind_retry(self, msg: Msg, delivery: Delivery) -> bool:
        """Send `msg` back if an earlier message on its subject is away for a retry.

        It then waits with them, so order per subject holds through retries: it comes
        back just after the one it follows, and later ones wait behind it in turn. One
        whose deliveries are spent is applied rather than lost.
        """
        parked = self._parked.get(delivery.subject)
        if not parked:
            return False
        now = time.monotonic()
        for seq, due in list(parked.items()):
            if now > due + self._ack_wait:
                del parked[seq]  # it went to another replica
        earlier = [due for seq, due in parked.items() if seq < delivery.stream_seq]
        if not earlier or delivery.num_delivered >= self.max_deliver:
            return False
        delay = max(max(earlier) - now, 0.0) + 0.1
        await msg.nak(delay=delay)
        parked[delivery.stream_seq] = now + delay
        return True

    async def _apply_alone(self, js: JetStreamContext, f: _InFlight) -> None:
        if await self._behind_retry(f.msg, f.item.delivery):
            f.span.end()
            return
        try:
            await self._apply([f])
        except Exception as exc:
            await self._settle_failure(js, f, exc)
            return
        await self._settled(f)

    async def _settled(self, f: _InFlight) -> None:
        await f.msg.ack()
        f.span.end()
        self._release(f.item.delivery)

    def _release(self, delivery: Delivery) -> None:
        parked = self._parked.get(delivery.subject)
        if parked is not None:
            parked.pop(delivery.stream_seq, None)
            if not parked:
                del self._parked[delivery.subject]

    async def _apply(self, batch: list[_InFlight]) -> None:
        """The handler on `batch`; while a dependency is down, hold and try again."""
        while True:
            try:
                await self._handler([f.item for f in batch])
                return
            except Exception:
                if self._dependencies_ok is None or await self._dependencies_ok():
                    raise
            await self._hold(batch)

    async def _settle_failure(self, js: JetStreamContext, f: _InFlight, exc: Exception) -> None:
        """Dead-letter a message that failed alone, or send it back for a retry."""
        delivery = f.item.delivery
        f.span.record_exception(exc)
        f.span.end()
        if isinstance(exc, POISON) or delivery.num_delivered >= self.max_deliver:
            await self._dead_letter(js, f.msg, delivery, exc)
            self._release(delivery)
            return
        delay = retry_delay(delivery.num_delivered)
        log.warning("%s: %s, retry in %.1fs", self.durable, type(exc).__name__, delay)
        await f.msg.nak(delay=delay)
        self._parked.setdefault(delivery.subject, {})[delivery.stream_seq] = (
            time.monotonic() + delay
        )

    async def _hold(self, batch: list[_InFlight]) -> None:
        log.warning("%s: a dependency is down; holding the message until it returns", self.durable)
        delay = 0.2
        while not await self._dependencies_ok():
            for f in batch:
                await f.msg.in_progress()  # not redelivered elsewhere while we wait
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        log.info("%s: dependency back; processing again", self.durable)

    async def _dead_letter(
        self, js: JetStreamContext, msg: Msg, delivery: Delivery, exc: BaseException
    ) -> None:
        await dead_letter(js, self.service, self.durable, delivery, describe(exc))
        await msg.ack()


async def dead_letter(
    js: JetStreamContext, service: str, durable: str, delivery: Delivery, reason: str
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
    subject = dlq_subject(service, durable)
    await asyncio.shield(publish_raw(js, subject, delivery.data, headers, timeout=5.0))
    log.warning("%s: dead-lettered stream seq %s: %s", durable, delivery.stream_seq, reason)
