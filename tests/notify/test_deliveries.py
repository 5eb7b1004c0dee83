"""The delivery worker as a use case: a roster that is an in-memory directory, a clock the
test moves, and the console channel, on a SQLite file. The hours and days its rules
talk about pass in an instant, and nothing waits on a server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.notify.app import MIGRATIONS
from services.notify.delivery import Deliveries
from services.notify.domain import Kind, QuietHours, Recipient
from services.notify.store import DeliveryRow, FanoutRow, Hold, Status
from shared import subjects
from shared.events import NotificationSent
from shared.outbox import OutboxRow
from shared.service import ServiceRuntime
from tests.support.fakes import FakeDirectory, SetClock, runtime_on_sqlite

pytestmark = pytest.mark.unit

AGENCY = "harbor"
# 23:00 UTC: inside quiet hours of 22:00-07:00, which end eight hours later.
LATE_EVENING = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)
QUIET = QuietHours(start=time(22, 0), end=time(7, 0))


class World:
    """One notify replica's worker, its directory and clock, and its database."""

    def __init__(self, runtime: ServiceRuntime, directory: FakeDirectory, clock: SetClock):
        self.runtime, self.directory, self.clock = runtime, directory, clock
        self.worker = Deliveries(runtime, directory, clock)

    async def pending(self, kind: Kind, recipient_id: str, *, urgent: bool = False) -> str:
        """A delivery of `kind` to `recipient_id`, due now, as the ledger records one."""
        notification_id = str(uuid.uuid4())
        async with self.runtime.sessions() as session, session.begin():
            session.add(
                DeliveryRow(
                    notification_id=notification_id,
                    cause_event_id=str(uuid.uuid4()),
                    recipient_id=recipient_id,
                    agency_id=AGENCY,
                    recipient_agency_id=AGENCY,
                    kind=kind,
                    reference=str(uuid.uuid4()),
                    urgent=urgent,
                    status=Status.PENDING,
                    next_attempt_at=self.clock(),
                    created_at=self.clock(),
                )
            )
        return notification_id

    async def fanout(self, kind: Kind) -> str:
        cause = str(uuid.uuid4())
        async with self.runtime.sessions() as session, session.begin():
            session.add(
                FanoutRow(
                    cause_event_id=cause,
                    agency_id=AGENCY,
                    kind=kind,
                    reference=str(uuid.uuid4()),
                    next_attempt_at=self.clock(),
                    created_at=self.clock(),
                )
            )
        return cause

    async def delivery(self, notification_id: str) -> DeliveryRow:
        async with self.runtime.readers() as session:
            return await session.get_one(DeliveryRow, notification_id)

    async def deliveries(self) -> list[DeliveryRow]:
        async with self.runtime.readers() as session:
            return list((await session.scalars(select(DeliveryRow))).all())

    async def published(self) -> list[str]:
        """The subjects of the events staged in the outbox, in order."""
        async with self.runtime.readers() as session:
            return list((await session.scalars(select(OutboxRow.subject))).all())


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with runtime_on_sqlite(
        "notify",
        MIGRATIONS,
        tmp_path,
        notify_console=True,
        notify_rate_limit=2,
        notify_rate_window=3600.0,
        notify_retry_base=30.0,
    ) as runtime:
        yield World(runtime, FakeDirectory(), SetClock(LATE_EVENING))


def supporter(recipient_id: str = "S-1", **more) -> Recipient:
    return Recipient(recipient_id=recipient_id, **more)


async def test_an_assignment_goes_out_once_with_its_event_staged(world: World):
    world.directory.add_supporter(AGENCY, supporter())
    sent = await world.pending(Kind.ASSIGNMENT, "S-1")

    assert await world.worker.round() == 1
    assert await world.worker.round() == 0  # nothing is sent twice

    row = await world.delivery(sent)
    assert (row.status, row.channel, row.sent_at) == (Status.SENT, "console", LATE_EVENING)
    assert await world.published() == [
        subjects.subject(AGENCY, NotificationSent.noun, NotificationSent.verb)
    ]


async def test_quiet_hours_hold_a_reminder_until_they_end_but_not_an_urgent_one(world: World):
    world.directory.add_supporter(AGENCY, supporter(quiet_hours=QUIET))
    reminder = await world.pending(Kind.CHECKIN_DUE, "S-1")
    urgent = await world.pending(Kind.ASSIGNMENT, "S-1", urgent=True)

    await world.worker.round()
    held = await world.delivery(reminder)
    assert (held.status, held.held_for) == (Status.PENDING, Hold.QUIET_HOURS)
    assert held.next_attempt_at == LATE_EVENING + timedelta(hours=8)
    assert (await world.delivery(urgent)).status == Status.SENT

    world.clock.advance(hours=7, minutes=59)
    assert await world.worker.round() == 0  # still quiet
    world.clock.advance(minutes=1)
    await world.worker.round()
    assert (await world.delivery(reminder)).status == Status.SENT


async def test_the_rate_limit_holds_the_extra_message_until_the_first_leaves_the_window(
    world: World,
):
    world.directory.add_supporter(AGENCY, supporter())
    first = await world.pending(Kind.CHECKIN_DUE, "S-1")
    await world.worker.round()
    world.clock.advance(minutes=10)
    await world.pending(Kind.CHECKIN_DUE, "S-1")
    await world.worker.round()
    world.clock.advance(minutes=10)
    third = await world.pending(Kind.CHECKIN_DUE, "S-1")

    await world.worker.round()
    held = await world.delivery(third)
    assert (held.status, held.held_for) == (Status.PENDING, Hold.RATE_LIMIT)
    first_sent = (await world.delivery(first)).sent_at
    assert held.next_attempt_at == first_sent + timedelta(hours=1)

    world.clock.now = held.next_attempt_at
    await world.worker.round()
    assert (await world.delivery(third)).status == Status.SENT


async def test_an_unreachable_roster_delays_a_delivery_and_fails_none(world: World):
    world.directory.add_supporter(AGENCY, supporter())
    waiting = await world.pending(Kind.ASSIGNMENT, "S-1")
    world.directory.down = True

    await world.worker.round()
    row = await world.delivery(waiting)
    assert (row.status, row.last_error) == (Status.PENDING, "lookup_failed")
    assert row.next_attempt_at == LATE_EVENING + timedelta(seconds=30)

    world.directory.down = False
    world.clock.advance(seconds=30)
    await world.worker.round()
    assert (await world.delivery(waiting)).status == Status.SENT


async def test_a_recipient_the_roster_does_not_know_fails_with_a_code(world: World):
    gone = await world.pending(Kind.ASSIGNMENT, "S-GONE")
    await world.worker.round()
    row = await world.delivery(gone)
    assert (row.status, row.last_error) == (Status.FAILED, "unknown_recipient")
    assert await world.published() == []


async def test_a_recipient_with_no_channel_fails_as_no_channel(world: World):
    world.runtime.settings.notify_console = False
    world.directory.add_supporter(AGENCY, supporter(email="s1@example.org"))  # no SMTP relay
    unreachable = await world.pending(Kind.ASSIGNMENT, "S-1")
    await world.worker.round()
    row = await world.delivery(unreachable)
    assert (row.status, row.last_error) == (Status.FAILED, "no_channel")


async def test_an_overdue_offer_reaches_every_coordinator_once(world: World):
    world.directory.coordinators_of[AGENCY] = [supporter("C-1"), supporter("C-2")]
    cause = await world.fanout(Kind.CHECKIN_OVERDUE)

    await world.worker.round()
    await world.worker.round()

    rows = await world.deliveries()
    assert sorted(r.recipient_id for r in rows) == ["C-1", "C-2"]
    assert {(r.cause_event_id, r.status, r.urgent) for r in rows} == {(cause, Status.SENT, False)}


async def test_a_fanout_waits_while_the_roster_cannot_name_the_coordinators(world: World):
    world.directory.coordinators_of[AGENCY] = [supporter("C-1")]
    world.directory.down = True
    await world.fanout(Kind.UNFILLED)

    await world.worker.round()
    assert await world.deliveries() == []

    world.directory.down = False
    world.clock.advance(seconds=30)
    await world.worker.round()
    assert [r.status for r in await world.deliveries()] == [Status.SENT]
