"""What notify exports for its operators (`services.notify.figures`): notifications
waiting by channel, channels that fail, and coordinators' messages that reach nobody.
The delivery worker on a SQLite file with an in-memory roster, sends answered by the
test; the figures read as `/metrics` shows them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.notify import channels, figures
from services.notify.app import MIGRATIONS
from services.notify.channels import Outcome
from services.notify.delivery import Deliveries
from services.notify.domain import Kind, Recipient
from services.notify.store import DeliveryRow, FanoutRow, Status
from shared.service import ServiceRuntime
from tests.support.fakes import FakeDirectory, SetClock, runtime_on_sqlite
from tests.support.figures import registry, value

pytestmark = pytest.mark.unit

AGENCY = "harbor"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
FAILING = "json://failing.example.org/hook"
WORKING = "json://working.example.org/hook"


@pytest.fixture
async def runtime(tmp_path) -> AsyncIterator[ServiceRuntime]:
    async with runtime_on_sqlite("notify", MIGRATIONS, tmp_path, notify_console=False) as rt:
        yield rt


@pytest.fixture(autouse=True)
def answered_by_url(monkeypatch) -> None:
    """A send to `FAILING` is refused for good, any other sent."""

    async def send(route, message, **more) -> Outcome:
        return Outcome.REFUSED if route.url and route.url.startswith(FAILING) else Outcome.SENT

    monkeypatch.setattr(channels, "send", send)


async def _pending(runtime: ServiceRuntime, kind: Kind, recipient: str, **more) -> None:
    async with runtime.sessions() as session, session.begin():
        session.add(
            DeliveryRow(
                notification_id=str(uuid.uuid4()),
                cause_event_id=str(uuid.uuid4()),
                recipient_id=recipient,
                agency_id=AGENCY,
                recipient_agency_id=AGENCY,
                kind=kind,
                reference=str(uuid.uuid4()),
                status=more.pop("status", Status.PENDING),
                next_attempt_at=NOW,
                created_at=NOW,
                **more,
            )
        )


async def _fanout(runtime: ServiceRuntime, kind: Kind) -> None:
    async with runtime.sessions() as session, session.begin():
        session.add(
            FanoutRow(
                cause_event_id=str(uuid.uuid4()),
                agency_id=AGENCY,
                kind=kind,
                reference=str(uuid.uuid4()),
                next_attempt_at=NOW,
                created_at=NOW,
            )
        )


def _failed(channel: str, kind: Kind) -> float:
    return value(registry(), "peerline_notifications_failed_total", channel=channel, kind=kind)


def _unreachable(kind: Kind) -> float:
    return value(registry(), "peerline_notify_coordinators_unreachable_total", kind=kind)


async def test_pending_notifications_by_the_channel_last_tried(runtime):
    await _pending(runtime, Kind.ASSIGNMENT, "S-1")  # not tried yet
    await _pending(runtime, Kind.CHECKIN_DUE, "S-2", channel="email", channel_index=1)
    await _pending(runtime, Kind.ASSIGNMENT, "S-3", channel="email", status=Status.SENT)
    await _fanout(runtime, Kind.UNFILLED)  # its coordinators not looked up yet

    await figures.sample(runtime)

    found = registry()
    pending = {
        channel: value(found, "peerline_notifications_pending", channel=channel)
        for channel in figures.CHANNELS
    }
    assert pending == {"none": 2, "email": 1, "sms": 0, "chat": 0, "webhook": 0, "console": 0}


async def test_a_failing_channel_is_counted_once_per_delivery_it_fails(runtime):
    directory = FakeDirectory()
    directory.add_supporter(AGENCY, Recipient("S-1", url=FAILING))
    worker = Deliveries(runtime, directory, SetClock(NOW))
    webhook, none = _failed("webhook", Kind.ASSIGNMENT), _failed("none", Kind.ASSIGNMENT)
    await _pending(runtime, Kind.ASSIGNMENT, "S-1")
    await _pending(runtime, Kind.ASSIGNMENT, "S-UNKNOWN")

    await worker.round()  # the webhook refuses; the roster knows nobody called S-UNKNOWN
    await worker.round()  # no channel left for S-1: failed, not counted again

    async with runtime.readers() as session:
        statuses = set(await session.scalars(select(DeliveryRow.status)))
    assert statuses == {Status.FAILED}
    assert _failed("webhook", Kind.ASSIGNMENT) == webhook + 1
    assert _failed("none", Kind.ASSIGNMENT) == none + 1


async def test_a_coordinators_message_that_reaches_none_of_them_is_counted_once(runtime):
    directory = FakeDirectory()
    worker = Deliveries(runtime, directory, SetClock(NOW))
    overdue, escalated = _unreachable(Kind.CHECKIN_OVERDUE), _unreachable(Kind.ESCALATED)

    await _fanout(runtime, Kind.CHECKIN_OVERDUE)  # the agency has no coordinator
    await worker.round()
    await worker.round()
    assert _unreachable(Kind.CHECKIN_OVERDUE) == overdue + 1

    directory.coordinators_of[AGENCY] = [
        Recipient("C-1", url=FAILING),
        Recipient("C-2", url=FAILING),
    ]
    await _fanout(runtime, Kind.CHECKIN_OVERDUE)  # every delivery fails
    for _ in range(3):
        await worker.round()
    assert _unreachable(Kind.CHECKIN_OVERDUE) == overdue + 2

    directory.coordinators_of[AGENCY] = [
        Recipient("C-1", url=FAILING),
        Recipient("C-2", url=WORKING),
    ]
    await _fanout(runtime, Kind.ESCALATED)  # one of them is reached
    for _ in range(3):
        await worker.round()
    assert _unreachable(Kind.ESCALATED) == escalated
    assert _unreachable(Kind.CHECKIN_OVERDUE) == overdue + 2
