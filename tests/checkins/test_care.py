"""The check-ins' use cases on a clock the test sets: an assignment's offers planned,
a contact closing one and planning the next, a decline ending them. Weeks pass in an
instant, on a SQLite file, with no bus: what would be published is read from the
outbox."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.checkins import contacts
from services.checkins.app import MIGRATIONS
from services.checkins.care import Care
from services.checkins.contacts import ContactBody
from services.checkins.domain import DEFAULT, Policy, Status
from services.checkins.store import CheckInRow, PolicyRow
from shared.bus import Received
from shared.events import PeerAssigned
from shared.outbox import OutboxRow
from shared.pseudonyms import Pseudonyms
from shared.service import ServiceRuntime
from shared.tokens import Principal, Role
from shared.vocab import Category, Channel, ContactOutcome, DurationBucket, InitiatedBy
from tests.support.events import peer_assigned
from tests.support.fakes import SetClock, runtime_on_sqlite

pytestmark = pytest.mark.unit

AGENCY = "harbor"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
POLICY = Policy()  # the default: first offer after 24 h, window to 72 h, +7 d, +30 d


class World:
    def __init__(self, runtime: ServiceRuntime, clock: SetClock) -> None:
        self.runtime, self.clock = runtime, clock
        self.care = Care(runtime.source, clock)

    async def assign(self, event: PeerAssigned) -> None:
        async with self.runtime.sessions() as session:
            await self.care.assigned(session, [Received(delivery=None, value=event)])
            await session.commit()

    async def contact(self, event: PeerAssigned, outcome: ContactOutcome) -> bool:
        """The assigned supporter logs a contact about the open offer; whether it closed."""
        offer = next(c for c in await self.offers() if c.status in (Status.SCHEDULED, Status.DUE))
        report = ContactBody(
            checkin_id=uuid.UUID(offer.checkin_id),
            initiated_by=InitiatedBy.SCHEDULED_CHECKIN,
            channel=Channel.PHONE,
            duration_bucket=DurationBucket.M15_30,
            outcome=outcome,
        )
        supporter = Principal(sub=event.supporter_id, agency=AGENCY, role=Role.SUPPORTER)
        async with self.runtime.sessions() as session:
            logged = await contacts.log(
                session,
                supporter,
                report,
                care=self.care,
                pseudonyms=Pseudonyms(self.runtime.settings),
                source=self.runtime.source,
            )
            await session.commit()
        return logged.checkin_closed

    async def set_policy(self, policy: Policy) -> None:
        """The agency's default policy, as its coordinator would have set it."""
        async with self.runtime.sessions() as session:
            session.add(
                PolicyRow(
                    agency_id=AGENCY,
                    category=DEFAULT,
                    first_offer_after=policy.first_offer_after.total_seconds(),
                    window_closes_after=policy.window_closes_after.total_seconds(),
                    follow_ups=[f.total_seconds() for f in policy.follow_ups],
                    follow_up_min_gap=policy.follow_up_min_gap.total_seconds(),
                    updated_at=self.clock.now,
                )
            )
            await session.commit()

    async def offers(self) -> list[CheckInRow]:
        async with self.runtime.readers() as session:
            return list(
                (await session.scalars(select(CheckInRow).order_by(CheckInRow.sequence))).all()
            )

    async def published(self, verb: str) -> list[dict]:
        """The payloads of the staged events whose subject ends in `verb`."""
        async with self.runtime.readers() as session:
            rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
        return [json.loads(r.payload) for r in rows if r.subject.endswith(f".{verb}")]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with runtime_on_sqlite(
        "checkins", MIGRATIONS, tmp_path, pseudonym_key="k" * 43
    ) as runtime:
        yield World(runtime, SetClock(NOW))


def reported(hours_ago: float) -> PeerAssigned:
    return peer_assigned(
        AGENCY,
        category=Category.FATAL_COLLISION,
        occurred_at=NOW - timedelta(hours=hours_ago),
    )


async def test_an_assignment_plans_its_first_offer_from_the_incident(world: World):
    event = reported(hours_ago=2)
    await world.assign(event)
    await world.assign(event)  # redelivered: nothing more

    [offer] = await world.offers()
    occurred = event.incident_occurred_at
    assert (offer.sequence, offer.status) == (1, Status.SCHEDULED)
    assert offer.due_at == occurred + POLICY.first_offer_after
    assert offer.window_closes_at == occurred + POLICY.window_closes_after
    assert len(await world.published("scheduled")) == 1


async def test_a_contact_closes_the_offer_and_plans_the_first_follow_up(world: World):
    event = reported(hours_ago=2)
    await world.assign(event)
    world.clock.advance(days=1)

    assert await world.contact(event, ContactOutcome.SUPPORT_PROVIDED)

    first, follow_up = await world.offers()
    assert (first.status, first.outcome, first.closed_at) == (
        Status.CLOSED,
        "contacted",
        world.clock.now,
    )
    assert follow_up.due_at == event.incident_occurred_at + POLICY.follow_ups[0]
    [closed] = await world.published("closed")
    assert closed["care_ended"] is False


async def test_a_follow_up_already_past_comes_the_gap_after_the_contact(world: World):
    """An incident reported ten days late: its +7 d follow-up is not skipped, nor
    offered the moment the first contact is logged, but 3 days after it (the default
    gap), with its whole window; the next one, well after, keeps its time."""
    event = reported(hours_ago=10 * 24)
    await world.assign(event)
    world.clock.advance(hours=5)

    assert await world.contact(event, ContactOutcome.SUPPORT_PROVIDED)

    _, week = await world.offers()
    assert week.due_at == world.clock.now + POLICY.follow_up_min_gap
    assert week.window_closes_at == week.due_at + POLICY.window
    world.clock.advance(days=3)  # the follow-up is due: the supporter makes it
    assert await world.contact(event, ContactOutcome.SUPPORT_PROVIDED)
    *_, month = await world.offers()
    assert month.due_at == event.incident_occurred_at + POLICY.follow_ups[1]


async def test_an_agencys_own_gap_spaces_its_follow_ups(world: World):
    await world.set_policy(Policy(follow_up_min_gap=timedelta(days=1)))
    event = reported(hours_ago=10 * 24)
    await world.assign(event)
    world.clock.advance(hours=5)

    assert await world.contact(event, ContactOutcome.SUPPORT_PROVIDED)

    _, week = await world.offers()
    assert week.due_at == world.clock.now + timedelta(days=1)


async def test_a_decline_ends_the_offers_at_once(world: World):
    event = reported(hours_ago=2)
    await world.assign(event)

    assert await world.contact(event, ContactOutcome.DECLINED)

    [only] = await world.offers()
    assert (only.status, only.outcome) == (Status.CLOSED, "declined")
    [closed] = await world.published("closed")
    assert closed["care_ended"] is True
