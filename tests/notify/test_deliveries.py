"""The delivery worker as a use case: a roster that is an in-memory directory, a clock the
test moves, and the console channel, on a SQLite file. The hours and days its rules
talk about pass in an instant, and nothing waits on a server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from services.notify import channels, ledger
from services.notify.app import MIGRATIONS
from services.notify.delivery import Deliveries
from services.notify.domain import Kind, Message, QuietHours, Recipient
from services.notify.store import DeliveryRow, FanoutRow, Hold, Status
from shared import subjects
from shared.bus import Received
from shared.events import Event, NotificationSent
from shared.outbox import OutboxRow
from shared.service import ServiceRuntime
from shared.vocab import Category
from tests.notify.scenario import OFFICER, assigned, due, escalated, reassigned, requested
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

    async def record(self, *events: Event) -> None:
        """What notify's consumers do with `events`: record their deliveries."""
        async with self.runtime.sessions() as session, session.begin():
            await ledger.record(session, [Received(None, event) for event in events])

    async def of(self, event: Event) -> list[DeliveryRow]:
        """The deliveries `event` caused, by recipient."""
        rows = [r for r in await self.deliveries() if r.cause_event_id == str(event.event_id)]
        return sorted(rows, key=lambda r: r.recipient_id)

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


@pytest.fixture
async def tonight(world: World) -> World:
    """The world at the next 23:00 UTC, inside quiet hours of 22:00-07:00: the ledger
    records a consumed event as due at the real time, which has then passed."""
    now = datetime.now(UTC)
    world.clock.now = now.replace(hour=23, minute=0, second=0, microsecond=0)
    if world.clock.now <= now:
        world.clock.now += timedelta(days=1)
    return world


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, Message]]:
    """What the worker sends, by recipient, in place of the console's log line."""
    found: list[tuple[str, Message]] = []
    send = channels.send

    async def keep(route, message, **more):
        found.append((more["kind"], message))
        return await send(route, message, **more)

    monkeypatch.setattr(channels, "send", keep)
    return found


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


# Nobody left waiting: officers' requests, moved assignments and escalations, from the
# events the roster publishes through the ledger to the channel.


async def test_quiet_hours_hold_a_cad_assignment_but_never_an_officers_request(
    tonight: World, sent
):
    for supporter_id in ("S-1", "S-2", "S-3"):
        tonight.directory.add_supporter(AGENCY, supporter(supporter_id, quiet_hours=QUIET))
    cad = assigned(AGENCY, "S-1", Category.FATAL_COLLISION)
    request = requested(AGENCY, "S-2")
    moved = reassigned(AGENCY, "S-3", for_request=True)
    await tonight.record(cad, request, moved)

    await tonight.worker.round()
    [held] = await tonight.of(cad)
    assert (held.kind, held.urgent, held.status, held.held_for) == (
        Kind.ASSIGNMENT,
        False,
        Status.PENDING,
        Hold.QUIET_HOURS,
    )
    assert held.next_attempt_at == tonight.clock() + timedelta(hours=8)
    for event in (request, moved):
        [row] = await tonight.of(event)
        assert (row.kind, row.urgent, row.status) == (Kind.REQUEST, True, Status.SENT)
    assert [kind for kind, _ in sent] == [Kind.REQUEST, Kind.REQUEST]
    for _, message in sent:
        assert message.title.startswith("Peerline: An officer asked for a peer")
        assert OFFICER not in message.body and "S-2" not in message.body

    tonight.clock.advance(hours=8)
    await tonight.worker.round()
    assert [r.status for r in await tonight.of(cad)] == [Status.SENT]


async def test_the_rate_limit_never_holds_back_an_officers_request(tonight: World):
    tonight.directory.add_supporter(AGENCY, supporter())
    await tonight.record(*(requested(AGENCY, "S-1") for _ in range(2)))
    await tonight.worker.round()  # the limit of 2 is reached
    cad = assigned(AGENCY, "S-1", Category.FATAL_COLLISION)
    request = requested(AGENCY, "S-1")
    await tonight.record(cad, request)

    await tonight.worker.round()
    assert [r.held_for for r in await tonight.of(cad)] == [Hold.RATE_LIMIT]
    assert [r.status for r in await tonight.of(request)] == [Status.SENT]


async def test_a_cad_assignment_asks_to_be_acknowledged_by_its_deadline_in_the_supporters_zone(
    world: World, sent
):
    world.directory.add_supporter(AGENCY, supporter(timezone="America/Chicago"))
    event = assigned(AGENCY, "S-1", Category.FATAL_COLLISION).model_copy(
        update={"acknowledge_by": LATE_EVENING + timedelta(hours=4)}
    )
    await world.record(event)
    async with world.runtime.sessions() as session, session.begin():
        # Recorded as due at the real time, which is after the world's: due now.
        await session.execute(update(DeliveryRow).values(next_attempt_at=world.clock()))

    await world.worker.round()
    [(kind, message)] = sent
    assert kind == Kind.ASSIGNMENT
    # 03:00 UTC on 11 March is 22:00 on 10 March in Chicago (CDT from 8 March).
    assert message.body.splitlines()[0] == (
        "You have a new peer support assignment. Please acknowledge it in Peerline by 22:00 CDT."
    )


async def test_an_escalated_request_reaches_every_coordinator_once_whatever_the_hour(
    tonight: World, sent
):
    tonight.directory.coordinators_of[AGENCY] = [
        supporter("C-1", quiet_hours=QUIET),
        supporter("C-2", quiet_hours=QUIET),
    ]
    event = escalated(AGENCY, for_request=True)
    await tonight.record(event)
    await tonight.record(event)  # redelivered: the same cause

    await tonight.worker.round()
    await tonight.worker.round()

    rows = await tonight.of(event)
    assert [r.recipient_id for r in rows] == ["C-1", "C-2"]
    assert {(r.kind, r.urgent, r.status) for r in rows} == {
        (Kind.REQUEST_ESCALATED, True, Status.SENT)
    }
    assert len(sent) == 2
    for _, message in sent:
        assert message.body.startswith(
            "A request for a peer is waiting: no supporter has taken it yet."
        )
        assert "/waiting" in message.body and OFFICER not in message.body


async def test_an_escalated_cad_assignment_waits_for_the_coordinators_quiet_hours(
    tonight: World,
):
    tonight.directory.coordinators_of[AGENCY] = [supporter("C-1", quiet_hours=QUIET)]
    event = escalated(AGENCY)
    await tonight.record(event)

    await tonight.worker.round()
    [row] = await tonight.of(event)
    assert (row.kind, row.urgent, row.held_for) == (Kind.ESCALATED, False, Hold.QUIET_HOURS)


async def test_an_assignment_after_a_shooting_stays_urgent_when_it_moves_and_escalates(
    tonight: World,
):
    tonight.directory.add_supporter(AGENCY, supporter("S-2", quiet_hours=QUIET))
    tonight.directory.coordinators_of[AGENCY] = [supporter("C-1", quiet_hours=QUIET)]
    first = assigned(AGENCY, "S-1", Category.OFFICER_INVOLVED_SHOOTING)
    moved = reassigned(AGENCY, "S-2", assignment_id=first.assignment_id)
    await tonight.record(first)
    await tonight.record(moved)
    up = escalated(AGENCY, assignment_id=first.assignment_id)
    await tonight.record(up)

    await tonight.worker.round()
    await tonight.worker.round()
    [to_s2] = await tonight.of(moved)
    [to_c1] = await tonight.of(up)
    assert (to_s2.kind, to_s2.urgent, to_s2.status) == (Kind.ASSIGNMENT, True, Status.SENT)
    assert (to_c1.kind, to_c1.urgent, to_c1.status) == (Kind.ESCALATED, True, Status.SENT)


async def test_a_moved_assignments_reminder_reaches_its_new_supporter_in_their_agency(
    tonight: World,
):
    """The new supporter is from the regional pool: the reminder, which names only the
    officer's agency, is looked up in theirs, as the move's notification recorded it."""
    tonight.directory.add_supporter("REGION01", supporter("S-R"))
    first = assigned(AGENCY, "S-1")
    moved = reassigned(
        AGENCY, "S-R", assignment_id=first.assignment_id, supporter_agency_id="REGION01"
    )
    reminder = due(AGENCY, "S-R", first.assignment_id)
    await tonight.record(first)
    await tonight.record(moved)
    await tonight.record(reminder)

    [row] = await tonight.of(reminder)
    assert (row.recipient_id, row.recipient_agency_id) == ("S-R", "REGION01")
    await tonight.worker.round()
    assert (await tonight.delivery(row.notification_id)).status == Status.SENT


async def test_a_requests_first_offer_prompts_no_one_beside_the_request(world: World):
    """The request's message asks the supporter to reach the officer; the offer falling
    due at once sends no second message. A later offer's prompt goes out as usual."""
    request = requested(AGENCY, "S-1")
    await world.record(request)
    first = due(AGENCY, "S-1", request.assignment_id)
    await world.record(first)
    other = due(AGENCY, "S-1")
    await world.record(other)
    assert [r.kind for r in await world.of(request)] == [Kind.REQUEST]
    assert await world.of(first) == []
    assert [r.kind for r in await world.of(other)] == [Kind.CHECKIN_DUE]
