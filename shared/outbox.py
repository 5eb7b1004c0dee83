"""Transactional outbox: an event is stored in the same transaction as the change that
caused it, and a relay publishes it to JetStream afterwards.

So a database write and its event succeed or fail together: if the bus is down the
change is still acknowledged and the event waits in the table until the relay gets it
stored (`Nats-Msg-Id` makes a repeated publish harmless). Rows are published in
insertion order, a batch at a time with every publish of the batch in flight before
the acks are awaited, so throughput is not one round trip per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext
from opentelemetry.context import Context
from sqlalchemy import (
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from shared import bus, cloudevents
from shared.db import KernelBase, UtcDateTime
from shared.events import Event

log = logging.getLogger(__name__)


class OutboxRow(KernelBase):
    __tablename__ = "outbox"
    # What the relay reads every round, indexed alone (kernel migration v2).
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "id",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    subject: Mapped[str] = mapped_column(String(255))
    headers: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True, default=None)


STAGED = "peerline.outbox.staged"
"""A session's `info` key, set when outbox rows are staged in it: the runtime's
after-commit hook wakes the relay for those sessions only (`ServiceRuntime`)."""


def _staged(session: AsyncSession) -> None:
    session.info[STAGED] = True


def _row(event: Event, source: str, now: datetime, trace: Context | None = None) -> dict:
    payload, headers = cloudevents.encode(event, source=source, trace=trace)
    return {
        "event_id": str(event.event_id),
        "subject": event.subject,
        "headers": json.dumps(headers),
        "payload": payload,
        "created_at": now,
    }


def add(session: AsyncSession, event: Event, *, source: str, trace: Context | None = None) -> None:
    """Stage `event` for publishing when `session` commits (and only then), in the trace
    context `trace` (the current one unless given)."""
    session.add(OutboxRow(**_row(event, source, datetime.now(UTC), trace)))
    _staged(session)


async def add_messages(
    session: AsyncSession, messages: list[tuple[uuid.UUID, bus.Outgoing]]
) -> None:
    """Stage messages that are not events (timers, say) for publishing when `session`
    commits, in one statement; each `key` identifies its message in the outbox, and its
    headers are published as given."""
    if messages:
        now = datetime.now(UTC)
        rows = [
            {
                "event_id": str(key),
                "subject": subject,
                "headers": json.dumps(dict(headers)),
                "payload": payload,
                "created_at": now,
            }
            for key, (subject, payload, headers) in messages
        ]
        await session.execute(insert(OutboxRow.__table__), rows)
        _staged(session)


async def add_all(
    session: AsyncSession, events: list[tuple[Event, Context | None]], *, source: str
) -> None:
    """Stage many events in one statement (group commit), each with the trace context
    of the request that caused it."""
    if events:
        now = datetime.now(UTC)
        rows = [_row(event, source, now, trace) for event, trace in events]
        await session.execute(insert(OutboxRow.__table__), rows)  # Core: no ORM bookkeeping
        _staged(session)


class Relay:
    """Publishes committed outbox rows; woken by every commit that staged some, for low
    latency, and looking on its own at least every few seconds.

    No transaction is held while publishing: rows are read, published, then marked. A
    crash in between publishes them again, which `Nats-Msg-Id` dedupes, and so does a
    second replica's relay picking the same rows on PostgreSQL. For the same reason
    marks are written together at most every `mark_every` seconds rather than once per
    publish: one write instead of dozens while reports stream in.
    """

    def __init__(
        self,
        sessions: async_sessionmaker,
        js: Callable[[], JetStreamContext | None],
        *,
        timeout: float = 5.0,
        readers: async_sessionmaker | None = None,
        batch: int = 500,
        mark_every: float = 0.05,
        keep_published: timedelta = timedelta(hours=1),
    ) -> None:
        self._sessions = sessions
        self._readers = readers or sessions  # finding rows need not wait for the writer
        self._js = js
        self._timeout = timeout
        self._batch = batch
        self._mark_every = mark_every
        self._keep = keep_published
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._unmarked: list[int] = []  # published, not yet marked so in the table
        self._last_mark = time.monotonic()

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        with contextlib.suppress(Exception):  # unmarked rows are only published again
            await self.mark()

    async def _run(self) -> None:
        backoff = 0.1
        last_purge = time.monotonic()
        while True:
            try:
                published = await self.publish_pending()
                backoff = 0.1
                if time.monotonic() - last_purge > 300:
                    await self.purge()
                    last_purge = time.monotonic()
                if published >= self._batch:
                    continue  # more are likely waiting; commits since then set the wake
                timeout = self._mark_every if self._unmarked else 1.0
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=timeout)
                except TimeoutError:
                    await self.mark()  # quiet for a moment: settle the marks
                self._wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("outbox relay: %s; retrying in %.1fs", type(exc).__name__, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; returns how many were stored."""
        js = self._js()
        if js is None:
            return 0  # not connected yet: rows wait, the bus connection wakes us
        self._wake.clear()
        async with self._readers() as session:
            rows = (
                await session.execute(
                    select(OutboxRow.id, OutboxRow.subject, OutboxRow.headers, OutboxRow.payload)
                    .where(OutboxRow.published_at.is_(None), OutboxRow.id.not_in(self._unmarked))
                    .order_by(OutboxRow.id)
                    .limit(self._batch)
                )
            ).all()
        if not rows:
            return 0
        stored, error = await bus.publish_many(
            js,
            [(r.subject, r.payload, json.loads(r.headers)) for r in rows],
            timeout=self._timeout,
        )
        self._unmarked.extend(r.id for r in rows[:stored])
        if len(self._unmarked) >= self._batch or (
            time.monotonic() - self._last_mark >= self._mark_every
        ):
            await self.mark()
        if error is not None:
            raise error  # keep order: the next round starts from the first failure
        return stored

    async def mark(self) -> None:
        """Record the published rows as published."""
        self._last_mark = time.monotonic()
        if not self._unmarked:
            return
        ids = list(self._unmarked)
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(ids))
                .values(published_at=datetime.now(UTC))
            )
        del self._unmarked[: len(ids)]

    async def purge(self, chunk: int = 1000) -> None:
        """Delete rows published longer ago than `keep_published`, a chunk per
        transaction: on SQLite statements run on the event loop, so one long delete
        would stall the whole service."""
        cutoff = datetime.now(UTC) - self._keep
        while True:
            async with self._sessions() as session, session.begin():
                old = (
                    select(OutboxRow.id)
                    .where(OutboxRow.published_at.is_not(None), OutboxRow.published_at < cutoff)
                    .limit(chunk)
                )
                deleted = await session.execute(delete(OutboxRow).where(OutboxRow.id.in_(old)))
            if deleted.rowcount < chunk:
                return
