"""The delivery worker: sends what the ledger holds, once, and records how it went.

As soon as a trigger's deliveries are recorded, else every `notify_poll_interval`
seconds, and for as long as there is work, each replica:

1. expands the coordinators' fan-outs that are due into one delivery per coordinator
   (looked up in the roster; inserts that ignore existing rows, so replicas expanding
   the same fan-out agree);
2. claims due deliveries with a conditional UPDATE that sets a lease (`LEASE`) only on
   rows nobody holds, so two replicas never send the same one;
3. for each: looks the recipient up, lets quiet hours and the rate limit hold it back
   (never an urgent one: an officer's request, or an assignment after a shooting or a
   line-of-duty death; decisions 29 and 72), sends it over the recipient's current
   channel (the message made now, in the recipient's time zone) and records
   the outcome under the lease, with `NotificationSent` or `NotificationFailed` staged
   in the same transaction (the outbox).

A transient failure is retried on the same channel after an exponential delay; after
`notify_attempts_per_channel` tries, or at once when the channel refuses the message
for good, the channel has failed (`NotificationFailed`) and the next one is tried.
Exactly once holds except when a replica dies between a provider accepting a message
and the record of it: the lease then runs out and the message goes once more.

Failures are counted for `/metrics` (`figures`): each channel that fails a delivery, a
delivery that fails for want of a channel, and a coordinators' fan-out that reaches no
coordinator, because none is known when it is expanded or every delivery of it failed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbound, outbox
from shared.db import upsert_insert
from shared.events import Clock, NotificationFailed, NotificationSent, utcnow
from shared.ids import derived_event_id
from shared.service import ServiceRuntime

from . import channels, figures
from .channels import Outcome
from .directory import Directory, LookupFailed
from .domain import (
    FOR_COORDINATORS,
    Kind,
    Recipient,
    Route,
    channels_of,
    message,
    quiet_until,
    rate_free_at,
    retry_delay,
    routes,
    short_reference,
    zone_of,
)
from .ledger import notification_id
from .store import DeliveryRow, FanoutRow, Hold, Status

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # longer than a send may take (`channels.SEND_TIMEOUT`)
BATCH = 16  # deliveries claimed, and sent concurrently, per round


@dataclass(frozen=True)
class HeldUntil:
    until: datetime
    reason: Hold


class Deliveries:
    """The worker of one replica (see the module docstring)."""

    def __init__(
        self, runtime: ServiceRuntime, directory: Directory, clock: Clock = utcnow
    ) -> None:
        self._rt = runtime
        self._clock = clock
        self._settings = runtime.settings
        self._directory = directory
        self._allowed = outbound.networks(self._settings.notify_allowed_networks)
        self._tracer = runtime.telemetry.tracer("peerline.notify")

    def start(self) -> None:
        """Say at start, once, when no channel but recipients' own URLs can deliver."""
        s = self._settings
        found = channels_of(smtp_url=s.smtp_url, sms_url=s.sms_url, console=s.notify_console)
        if (warning := found.warning()) is not None:
            log.warning(warning)

    async def stop(self) -> None:
        pass

    async def run(self) -> None:
        """Deliver everything that is due (a periodic job)."""
        while await self.round():
            pass

    async def round(self) -> int:
        """Expand due fan-outs, then claim and deliver one batch; how many were claimed."""
        await self._expand(self._clock())
        token = str(uuid.uuid4())
        claimed = await self._claim(self._clock(), token)
        by_recipient: dict[str, list[DeliveryRow]] = {}
        for row in claimed:
            by_recipient.setdefault(row.recipient_id, []).append(row)
        # Recipients side by side; one recipient's messages one after the other, so each
        # sees the one before it in the rate limit.
        await asyncio.gather(*(self._deliver_all(rows, token) for rows in by_recipient.values()))
        return len(claimed)

    async def _deliver_all(self, rows: list[DeliveryRow], token: str) -> None:
        for row in rows:
            try:
                await self._deliver(row, token)
            except Exception as exc:  # its lease runs out and it is tried again
                log.warning("delivery failed: %s", type(exc).__name__)

    # Fan-outs.

    async def _expand(self, now: datetime) -> None:
        async with self._rt.readers() as session:
            due = (
                await session.scalars(
                    select(FanoutRow)
                    .where(FanoutRow.expanded_at.is_(None), FanoutRow.next_attempt_at <= now)
                    .order_by(FanoutRow.next_attempt_at)
                    .limit(BATCH)
                )
            ).all()
        for fanout in due:
            try:
                coordinators = await self._directory.coordinators(fanout.agency_id)
            except LookupFailed:
                await self._expand_later(fanout, now)
                continue
            async with self._rt.sessions() as session, session.begin():
                insert = upsert_insert(session)
                for coordinator in coordinators:
                    await session.execute(
                        insert(DeliveryRow)
                        .values(
                            notification_id=notification_id(
                                fanout.cause_event_id, coordinator.recipient_id
                            ),
                            cause_event_id=fanout.cause_event_id,
                            recipient_id=coordinator.recipient_id,
                            agency_id=fanout.agency_id,
                            recipient_agency_id=fanout.agency_id,
                            kind=fanout.kind,
                            reference=fanout.reference,
                            urgent=fanout.urgent,
                            status=Status.PENDING,
                            next_attempt_at=now,
                            traceparent=fanout.traceparent,
                            created_at=now,
                        )
                        .on_conflict_do_nothing()
                    )
                marked = await session.execute(
                    update(FanoutRow)
                    .where(
                        FanoutRow.cause_event_id == fanout.cause_event_id,
                        FanoutRow.expanded_at.is_(None),
                    )
                    .values(expanded_at=now)
                )
            if not coordinators:
                log.warning("%s: the agency has no coordinator to notify", fanout.kind)
                if marked.rowcount == 1:  # this replica expanded it: counted once
                    figures.unreachable(fanout.kind)

    async def _expand_later(self, fanout: FanoutRow, now: datetime) -> None:
        later = now + timedelta(seconds=self._settings.notify_retry_base)
        async with self._rt.sessions() as session, session.begin():
            await session.execute(
                update(FanoutRow)
                .where(FanoutRow.cause_event_id == fanout.cause_event_id)
                .values(next_attempt_at=later)
            )

    # Deliveries.

    async def _claim(self, now: datetime, token: str) -> list[DeliveryRow]:
        free = or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until < now)
        due = [DeliveryRow.status == Status.PENDING, DeliveryRow.next_attempt_at <= now, free]
        async with self._rt.readers() as session:  # most rounds find nothing: no write
            ids = (
                await session.scalars(
                    select(DeliveryRow.notification_id)
                    .where(*due)
                    .order_by(DeliveryRow.next_attempt_at)
                    .limit(BATCH)
                )
            ).all()
        if not ids:
            return []
        async with self._rt.sessions() as session, session.begin():
            return list(
                (
                    await session.scalars(
                        update(DeliveryRow)
                        .where(DeliveryRow.notification_id.in_(ids), *due)
                        .values(lease_until=now + LEASE, lease_owner=token)
                        .returning(DeliveryRow),
                        execution_options={"synchronize_session": False},
                    )
                ).all()
            )

    async def _deliver(self, row: DeliveryRow, token: str) -> None:
        parent = propagate.extract({"traceparent": row.traceparent or ""})
        with self._tracer.start_as_current_span(
            "notify deliver", context=parent, kind=trace.SpanKind.PRODUCER
        ) as span:
            await self._deliver_in(row, token, trace.set_span_in_context(span))

    async def _deliver_in(self, row: DeliveryRow, token: str, context: Context) -> None:
        now = self._clock()
        try:
            recipient = await self._recipient(row)
        except LookupFailed as exc:  # its message is a status code or an error's type
            log.warning("recipient look-up failed (%s); retrying", exc)
            later = now + timedelta(seconds=self._settings.notify_retry_base)
            await self._update(row, token, next_attempt_at=later, last_error="lookup_failed")
            return
        if recipient is None:
            await self._fail(row, token, "unknown_recipient")
            return
        if not row.urgent and (hold := await self._hold(row, recipient, now)) is not None:
            await self._update(row, token, next_attempt_at=hold.until, held_for=hold.reason)
            return
        found = routes(
            recipient,
            smtp_url=self._settings.smtp_url,
            sms_url=self._settings.sms_url,
            console=self._settings.notify_console,
        )
        if row.channel_index >= len(found):
            error = "channels_exhausted" if row.channel_index else "no_channel"
            await self._fail(row, token, error)
            return
        route = found[row.channel_index]
        content = message(
            Kind(row.kind),
            uuid.UUID(row.reference),
            self._settings.portal_url,
            acknowledge_by=row.acknowledge_by,
            now=now,
            zone=zone_of(recipient.timezone),
        )
        outcome = await channels.send(
            route,
            content,
            kind=row.kind,
            reference=short_reference(uuid.UUID(row.reference)),
            allowed=self._allowed,
        )
        await self._record(row, token, route, outcome, context)

    async def _recipient(self, row: DeliveryRow) -> Recipient | None:
        if Kind(row.kind) in FOR_COORDINATORS:
            coordinators = await self._directory.coordinators(row.recipient_agency_id)
            return next((c for c in coordinators if c.recipient_id == row.recipient_id), None)
        return await self._directory.supporter(row.recipient_agency_id, row.recipient_id)

    async def _hold(
        self, row: DeliveryRow, recipient: Recipient, now: datetime
    ) -> HeldUntil | None:
        """Whether quiet hours or the rate limit hold the message back, and until when."""
        holds = []
        if until := quiet_until(now, recipient.quiet_hours, zone_of(recipient.timezone)):
            holds.append(HeldUntil(until, Hold.QUIET_HOURS))
        window = timedelta(seconds=self._settings.notify_rate_window)
        async with self._rt.readers() as session:
            recent = (
                await session.scalars(
                    select(DeliveryRow.sent_at).where(
                        DeliveryRow.recipient_id == row.recipient_id,
                        DeliveryRow.status == Status.SENT,
                        DeliveryRow.sent_at > now - window,
                    )
                )
            ).all()
        free = rate_free_at(
            now, list(recent), limit=self._settings.notify_rate_limit, window=window
        )
        if free is not None:
            holds.append(HeldUntil(free, Hold.RATE_LIMIT))
        return max(holds, key=lambda h: h.until, default=None)

    async def _record(
        self, row: DeliveryRow, token: str, route: Route, outcome: Outcome, context: Context
    ) -> None:
        now = self._clock()
        attempts = row.attempts + 1
        common = {
            "notification_id": uuid.UUID(row.notification_id),
            "cause_event_id": uuid.UUID(row.cause_event_id),
            "agency_id": row.agency_id,
            "recipient_id": row.recipient_id,
            "channel": route.channel,
            "attempts": attempts,
        }
        event = None
        if outcome is Outcome.SENT:
            values = {"status": Status.SENT, "sent_at": now, "last_error": None}
            event = NotificationSent(
                event_id=derived_event_id("notification-sent", row.notification_id), **common
            )
        elif outcome is Outcome.RETRY and attempts < self._settings.notify_attempts_per_channel:
            delay = retry_delay(
                attempts,
                base=self._settings.notify_retry_base,
                cap=self._settings.notify_retry_max,
            )
            values = {"next_attempt_at": now + delay, "last_error": "send_failed"}
        else:  # this channel has failed: the next one, at once
            values = {
                "channel_index": row.channel_index + 1,
                "next_attempt_at": now,
                "last_error": "refused" if outcome is Outcome.REFUSED else "send_failed",
            }
            attempts = 0
            event = NotificationFailed(
                event_id=derived_event_id(
                    "notification-failed", row.notification_id, row.channel_index
                ),
                **common,
            )
        async with self._rt.sessions() as session:
            if not await self._update_in(
                session, row, token, channel=route.channel, attempts=attempts, **values
            ):
                return
            if event is not None:
                outbox.add(session, event, source=self._rt.source, trace=context)
            await session.commit()
        if isinstance(event, NotificationFailed):
            figures.failed(route.channel, row.kind)

    async def _fail(self, row: DeliveryRow, token: str, error: str) -> None:
        """The delivery has failed for good. For the coordinators, whether every
        delivery of its fan-out now has: the fan-out's row is locked first, so that of
        replicas failing its last deliveries at once, exactly one sees them all failed
        (SQLite has one writer at a time anyway)."""
        coordinators = Kind(row.kind) in FOR_COORDINATORS
        async with self._rt.sessions() as session, session.begin():
            if coordinators:
                await session.execute(
                    select(FanoutRow.cause_event_id)
                    .where(FanoutRow.cause_event_id == row.cause_event_id)
                    .with_for_update()
                )
            if not await self._update_in(
                session, row, token, status=Status.FAILED, last_error=error
            ):
                return
            reached_none = coordinators and not await self._any_left(session, row)
        if error != "channels_exhausted":  # those were counted as each channel failed
            figures.failed(None, row.kind)
        if reached_none:
            figures.unreachable(row.kind)

    async def _any_left(self, session: AsyncSession, row: DeliveryRow) -> bool:
        """Whether a delivery of `row`'s cause has not failed (sent, or still to send)."""
        found = await session.scalar(
            select(DeliveryRow.notification_id)
            .where(
                DeliveryRow.cause_event_id == row.cause_event_id,
                DeliveryRow.status != Status.FAILED,
            )
            .limit(1)
        )
        return found is not None

    async def _update(self, row: DeliveryRow, token: str, **values: object) -> None:
        async with self._rt.sessions() as session, session.begin():
            await self._update_in(session, row, token, **values)

    async def _update_in(
        self, session: AsyncSession, row: DeliveryRow, token: str, **values: object
    ) -> bool:
        """Write `values` and release the lease, if this round still holds it."""
        values.setdefault("held_for", None)
        result = await session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.notification_id == row.notification_id,
                DeliveryRow.lease_owner == token,
            )
            .values(lease_until=None, lease_owner=None, **values)
        )
        if result.rowcount == 0:
            log.warning("a delivery's lease ran out before its outcome was recorded")
            return False
        return True
