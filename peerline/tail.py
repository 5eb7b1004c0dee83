"""`peerline events tail`: follow the bus, one decoded event per line.

It reads through JetStream ordered consumers, one per stream that can hold the wanted
subjects, because some messages are written by the NATS server itself (the check-in
timers' message schedules) and never pass through a core subscription.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from itertools import zip_longest

import nats
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy
from nats.js.errors import NotFoundError

from peerline import natsclient
from shared.cloudevents import decode
from shared.streams import ALL_STREAMS, StreamSpec

CONNECT_TIMEOUT = 5.0

Writer = Callable[[str], None]


class TailError(Exception):
    """The tail cannot start; the message says why."""


def subjects_overlap(a: str, b: str) -> bool:
    """Whether some concrete subject matches both patterns (`*` and `>` wildcards)."""
    for x, y in zip_longest(a.split("."), b.split(".")):
        if x is None or y is None:
            return False
        if x == ">" or y == ">":
            return True
        if x != y and "*" not in (x, y):
            return False
    return True


def streams_for(subject: str) -> list[StreamSpec]:
    """The streams worth a consumer: the server accepts any filter on any stream, even
    one the stream can never match, so choosing is up to us."""
    return [s for s in ALL_STREAMS if any(subjects_overlap(subject, p) for p in s.subjects)]


def _compact(payload: bytes) -> str:
    try:
        return json.dumps(json.loads(payload), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return payload.decode("utf-8", errors="replace")


def format_message(msg: Msg) -> str:
    """`time  ce-type  subject  payload`; messages that are not valid Peerline
    CloudEvents show their type header (or `-`) and the payload as received."""
    headers = msg.headers or {}
    stamp = msg.metadata.timestamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    try:
        body = decode(headers, msg.data).model_dump_json()
    except ValueError:
        body = _compact(msg.data)
    line = f"{stamp}  {headers.get('ce-type', '-')}  {msg.subject}  {body}"
    if "Nats-Schedule" in headers:
        target = headers.get("Nats-Schedule-Target", "?")
        line += f"  (schedule {headers['Nats-Schedule']} -> {target})"
    return line


async def tail(
    nats_url: str,
    subject: str,
    *,
    count: int | None,
    out: Writer,
    err: Writer,
    line: Callable[[Msg], str | None] = format_message,
) -> None:
    """Print events stored from now on until `count` have been printed (or forever),
    each as `line` has it (a message it gives None for is not printed)."""
    specs = streams_for(subject)
    if not specs:
        raise TailError(f"no Peerline stream stores {subject}")

    async def on_error(exc: Exception) -> None:
        err(f"nats: {exc}")

    async def on_disconnect() -> None:
        err("lost the connection to NATS; reconnecting")

    async def on_reconnect() -> None:
        err("reconnected to NATS")

    try:
        nc = await asyncio.wait_for(
            natsclient.connect(
                nats_url,
                name="peerline events tail",
                max_reconnect_attempts=-1,
                error_cb=on_error,
                disconnected_cb=on_disconnect,
                reconnected_cb=on_reconnect,
            ),
            CONNECT_TIMEOUT,
        )
    except TimeoutError:
        raise TailError(f"cannot reach NATS at {natsclient.shown(nats_url)}") from None
    try:
        queue: asyncio.Queue[Msg] = asyncio.Queue()
        followed = await _follow(nc, subject, specs, queue, err)
        if not followed:
            raise TailError("none of Peerline's streams exist yet: start the stack first")
        where = natsclient.shown(nats_url)
        err(f"following {subject} on {where} ({', '.join(followed)}); Ctrl-C stops")
        printed = 0
        while count is None or printed < count:
            text = line(await queue.get())
            if text is not None:
                out(text)
                printed += 1
    finally:
        await nc.close()


async def _follow(
    nc: nats.NATS, subject: str, specs: list[StreamSpec], queue: asyncio.Queue, err: Writer
) -> list[str]:
    """Start an ordered consumer per existing stream; the names of those followed.

    After losing the server, nats-py recreates an ordered consumer from the stream
    sequence after the last message it saw, which is 1 when it saw none: a tail started
    with DeliverPolicy.NEW would replay the whole stream. Each consumer therefore drops
    what the stream already held when the tail began.
    """
    js = nc.jetstream()
    followed = []
    for spec in specs:
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            err(f"stream {spec.name} does not exist; not following it")
            continue

        async def enqueue(msg: Msg, floor: int = info.state.last_seq) -> None:
            if msg.metadata.sequence.stream > floor:
                await queue.put(msg)

        await js.subscribe(
            subject,
            stream=spec.name,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
            cb=enqueue,
        )
        followed.append(spec.name)
    return followed
