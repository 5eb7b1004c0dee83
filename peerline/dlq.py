"""`peerline dlq`: look at dead letters and put one back on its original subject.

Dead letters are read with JetStream's message-get API, one stored message after
another up to the last sequence the stream held when the command began. Looking
therefore leaves no consumer behind on the server and always ends. Payloads are never
shown: they can name officers, and operators' tools carry no personal data (rule
10); the `Peerline-Dlq-*` headers say enough to decide what to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import nats
import nats.errors
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg, StreamInfo
from nats.js.errors import NotFoundError
from rich.table import Table
from rich.text import Text

from peerline import natsclient
from shared.bus import PublishNotStored, publish_raw
from shared.cloudevents import MSG_ID
from shared.streams import DLQ
from shared.subjects import DLQ_PREFIX

CONNECT_TIMEOUT = 5.0
DLQ_HEADER_PREFIX = "peerline-dlq-"


class DlqError(Exception):
    """The command cannot do what was asked; the message says why."""


@dataclass(frozen=True)
class DeadLetter:
    """What an operator may see of a dead letter: where it came from and why, no payload."""

    id: int
    stored: datetime
    consumer: str
    subject: str
    deliveries: str
    reason: str
    ce_type: str

    @classmethod
    def of(cls, msg: RawStreamMsg) -> DeadLetter:
        headers = msg.headers or {}
        return cls(
            id=msg.seq,
            stored=msg.time,
            consumer=headers.get("Peerline-Dlq-Consumer", "-"),
            subject=headers.get("Peerline-Dlq-Subject", "-"),
            deliveries=headers.get("Peerline-Dlq-Deliveries", "-"),
            reason=headers.get("Peerline-Dlq-Reason", "-"),
            ce_type=headers.get("ce-type", "-"),
        )


@dataclass(frozen=True)
class Replayed:
    """Where a dead letter went back to, and whether JetStream already had that copy."""

    dlq_id: int
    subject: str
    stream: str
    seq: int
    duplicate: bool


async def dead_letters(nats_url: str, consumer: str | None = None) -> list[DeadLetter]:
    """The dead letters in the stream, oldest first, optionally of one consumer only."""
    wanted = f"{DLQ_PREFIX}.*.{consumer}" if consumer else f"{DLQ_PREFIX}.>"
    async with _jetstream(nats_url) as js:
        state = (await _stream_info(js)).state
        letters = []
        seq = max(state.first_seq, 1)
        while seq <= state.last_seq:
            try:
                msg = await js.get_msg(DLQ.name, seq, subject=wanted, next=True)
            except NotFoundError:
                break
            if msg.seq > state.last_seq:
                break
            letters.append(DeadLetter.of(msg))
            seq = msg.seq + 1
        return letters


async def replay(nats_url: str, dlq_id: int, *, timeout: float) -> Replayed:
    """Publish dead letter `dlq_id` again on its original subject, then delete it.

    The copy gets its own `Nats-Msg-Id`, or JetStream would drop it as a duplicate of
    the original still inside the duplicate window; a second replay of the same dead
    letter is dropped instead. Consumers' inboxes keep the event from taking effect twice.
    """
    async with _jetstream(nats_url) as js:
        await _stream_info(js)
        try:
            msg = await js.get_msg(DLQ.name, dlq_id)
        except NotFoundError:
            raise DlqError(f"no dead letter {dlq_id} in {DLQ.name}") from None
        stored = msg.headers or {}
        subject = stored.get("Peerline-Dlq-Subject")
        if not subject:
            raise DlqError(f"dead letter {dlq_id} does not say its original subject")
        headers = {
            key: value
            for key, value in stored.items()
            if not key.lower().startswith((DLQ_HEADER_PREFIX, "nats-"))
        }
        headers[MSG_ID] = f"replay:{dlq_id}:{stored.get('ce-id', '-')}"
        try:
            ack = await publish_raw(js, subject, msg.data or b"", headers, timeout=timeout)
        except LookupError:
            raise DlqError(f"no Peerline stream stores {subject}") from None
        except (PublishNotStored, TimeoutError) as exc:
            raise DlqError(f"{subject} did not store the replay ({type(exc).__name__})") from None
        try:
            await js.delete_msg(DLQ.name, dlq_id)
        except nats.errors.Error as exc:
            raise DlqError(
                f"replayed dead letter {dlq_id} to {subject} but could not delete it ({exc}); "
                "replaying it again soon deletes it, the stream drops the second copy"
            ) from None
        return Replayed(dlq_id, subject, ack.stream, ack.seq, bool(ack.duplicate))


def table(letters: list[DeadLetter]) -> Table:
    """Long values fold onto more lines rather than being cut: on a narrow terminal or
    in a pipe, an id or subject cut short would be useless."""
    grid = Table(title=f"Dead letters in {DLQ.name}", title_justify="left")
    grid.add_column("id", no_wrap=True)
    for column in ("stored (UTC)", "consumer", "subject"):
        grid.add_column(column, overflow="fold")
    grid.add_column("deliveries", no_wrap=True)
    for column in ("reason", "ce-type"):
        grid.add_column(column, overflow="fold")
    for letter in letters:
        stamp = letter.stored.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        row = (
            str(letter.id),
            stamp,
            letter.consumer,
            letter.subject,
            letter.deliveries,
            letter.reason,
            letter.ce_type,
        )
        # Text, not str: header values are data, not Rich markup.
        grid.add_row(*map(Text, row))
    return grid


@asynccontextmanager
async def _jetstream(nats_url: str) -> AsyncIterator[JetStreamContext]:
    """A JetStream context for one command; NATS failures become a `DlqError`."""

    failures: list[str] = []

    async def quiet(exc: Exception) -> None:
        """Connection errors surface with the timeout below, not as tracebacks."""
        failures.append(str(exc))

    try:
        nc = await asyncio.wait_for(
            natsclient.connect(nats_url, name="peerline dlq", error_cb=quiet), CONNECT_TIMEOUT
        )
    except TimeoutError:
        why = f" ({failures[0]})" if failures else ""  # refused credentials, say
        raise DlqError(f"cannot reach NATS at {natsclient.shown(nats_url)}{why}") from None
    try:
        yield nc.jetstream()
    except nats.errors.Error as exc:
        raise DlqError(f"NATS at {natsclient.shown(nats_url)}: {exc}") from None
    finally:
        await nc.close()


async def _stream_info(js: JetStreamContext) -> StreamInfo:
    try:
        return await js.stream_info(DLQ.name)
    except NotFoundError:
        raise DlqError(f"stream {DLQ.name} does not exist: start the stack first") from None
