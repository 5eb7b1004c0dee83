"""Watch what reaches JetStream, the way another system subscribing to Peerline would."""

from __future__ import annotations

import asyncio
import contextlib
import json

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

from shared import bus, cloudevents
from shared.events import Event


class EventLog:
    """Collects decoded events on `subject` (all streams that store it) from now on."""

    def __init__(self, nats_url: str, subject: str, stream: str, **connect_options) -> None:
        self.nats_url = nats_url
        self.connect_options = connect_options  # TLS, say
        self.subject = subject
        self.stream = stream
        self.events: list[Event] = []
        self.raw: list[tuple[str, dict, dict]] = []
        self._nc = None

    async def __aenter__(self) -> EventLog:
        self._nc = await nats.connect(self.nats_url, **self.connect_options)
        js = self._nc.jetstream()

        async def on_msg(msg) -> None:
            headers = dict(msg.headers or {})
            self.raw.append((msg.subject, headers, json.loads(msg.data)))
            with contextlib.suppress(ValueError):
                self.events.append(cloudevents.decode(headers, msg.data))

        try:
            await js.subscribe(
                self.subject,
                stream=self.stream,
                cb=on_msg,
                ordered_consumer=True,
                config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
            )
        except BaseException:
            await self._nc.close()  # callers may retry: leave no connection behind
            raise
        return self

    async def __aexit__(self, *exc) -> None:
        await self._nc.close()

    def of_type(self, cls: type[Event]) -> list[Event]:
        return [e for e in self.events if isinstance(e, cls)]

    async def wait_for(
        self, cls: type[Event], count: int = 1, timeout: float = 10.0
    ) -> list[Event]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.of_type(cls)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"saw {len(self.of_type(cls))} {cls.__name__}, wanted {count}")
            await asyncio.sleep(0.02)
        return self.of_type(cls)


async def publish(nats_url: str, *events: Event, source: str = "peerline/tests") -> None:
    """Publish `events` as a Peerline service's outbox would: CloudEvents headers,
    `Nats-Msg-Id`, confirmed stored in their stream."""
    nc = await nats.connect(nats_url)
    try:
        for event in events:
            payload, headers = cloudevents.encode(event, source=source)
            await bus.publish_raw(nc.jetstream(), event.subject, payload, headers, timeout=5)
    finally:
        await nc.close()
