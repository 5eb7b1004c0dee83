"""Durable timers: JetStream message schedules, kept and fired by the NATS server.

A check-in timer must survive a restart of its service and of the NATS server, and one
that came due while either was down must fire right after. A message schedule does
that with no timer state of our own: the timer is a stored message on a subject of its
own (`Nats-Schedule: @at <time>`), and when it is due the server writes its payload to
the target subject of the same stream, where a durable consumer picks it up.

What the server does (nats-server 2.15, decision 0022):

- The subject is the timer's identity. The server keeps one schedule per subject
  (it stores each with `Nats-Rollup: sub`), so scheduling again replaces the pending
  timer: a retry cannot make it fire twice, and a new time moves it.
- A time in the past fires at once (within about 0.25 s).
- The fired message has the timer's payload and headers, without `Nats-Msg-Id`,
  `Nats-TTL`, `Nats-Rollup`, `Nats-Expected-*` and `Nats-Schedule-*`, and with
  `Nats-Scheduler` (the timer's subject); the timer itself is then deleted.
- A timer is a stored message, so the stream's `max_age` would delete one that waits
  longer: each carries `Nats-TTL: never`, which exempts it. Its fired message has no
  TTL and ages out with the stream.
- Fired messages are only stored: read them with a JetStream consumer. A timer can
  fire just as it is cancelled, so the consumer re-checks state before acting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nats.js import JetStreamContext
from nats.js.api import PubAck

from shared.bus import Outgoing, publish_many, publish_raw
from shared.cloudevents import MSG_ID
from shared.streams import stream_for_subject

SCHEDULER = "Nats-Scheduler"  # on a fired message: the subject of the timer that fired


@dataclass(frozen=True)
class Timer:
    """Write `payload` and `headers` to `target` at `fire_at`, unless replaced first.

    `subject` and `target` must be in the same stream, one that allows schedules.
    """

    subject: str
    fire_at: datetime
    target: str
    payload: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def message(self) -> Outgoing:
        if self.fire_at.tzinfo is None:
            raise ValueError("fire_at must be timezone-aware")
        at = self.fire_at.astimezone(UTC).isoformat().replace("+00:00", "Z")  # RFC 3339
        # No Nats-Msg-Id: the server would drop a timer moved within the duplicate window.
        headers = {k: v for k, v in self.headers.items() if k != MSG_ID}
        headers.update(
            {
                "Nats-Schedule": f"@at {at}",
                "Nats-Schedule-Target": self.target,
                "Nats-TTL": "never",
            }
        )
        return self.subject, self.payload, headers


async def schedule(js: JetStreamContext, timer: Timer, *, timeout: float = 5.0) -> PubAck:
    """Store `timer`, replacing any pending timer on its subject."""
    return await publish_raw(js, *timer.message(), timeout=timeout)


async def schedule_many(
    js: JetStreamContext, timers: Sequence[Timer], *, timeout: float = 30.0
) -> tuple[int, BaseException | None]:
    """Store `timers` pipelined; what `publish_many` returns. Storing one again is harmless."""
    return await publish_many(js, [t.message() for t in timers], timeout=timeout)


async def cancel(js: JetStreamContext, subject_filter: str) -> None:
    """Delete every pending timer whose subject matches `subject_filter` (wildcards allowed)."""
    await js.purge_stream(stream_for_subject(subject_filter).name, subject=subject_filter)


def tombstone(subject: str) -> Outgoing:
    """A message that cancels the pending timer on `subject` when stored: it replaces the
    schedule (`Nats-Rollup: sub`) and leaves the stream itself a minute later."""
    return subject, b"", {"Nats-Rollup": "sub", "Nats-TTL": "60s"}
