"""Nobody left waiting, in check-ins: an officer's request is offered at once, an
assignment that moves takes its open offers to the new supporter, and a withdrawn
request cancels its offers; each in whatever order the roster's events arrive. On a
clock the test sets, a SQLite file and no bus: what would be published is read from
the outbox."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.checkins import contacts, retention
from services.checkins.app import MIGRATIONS
from services.checkins.care import Care
from services.checkins.contacts import ContactBody
from services.checkins.domain import DEFAULT, Plan, Policy, Status, request_policy
from services.checkins.store import AssignmentRow, CheckInRow, MoveRow, PolicyRow, RequestRow
from services.checkins.timers import Fired, Kind
from shared.bus import Received
from shared.errors import NotAllowed
from shared.events import AssignmentReassigned, PeerAssigned, SupportRequestResolved
from shared.outbox import OutboxRow
from shared.pseudonyms import Pseudonyms
from shared.service import ServiceRuntime
from shared.tokens import Principal, Role
from shared.vocab import (
    AssignmentReason,
    Category,
    Channel,
    ContactOutcome,
    DurationBucket,
    InitiatedBy,
    ReassignReason,
    RequestOutcome,
)
from tests.support.events import peer_assigned
from tests.support.fakes import SetClock, runtime_on_sqlite

pytestmark = pytest.mark.unit

AGENCY = "harbor"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
POLICY = Policy()  # the default: first offer after 24 h, window to 72 h, +7 d, +30 d


def requested(at: datetime = NOW, supporter_id: str = "S-A") -> PeerAssigned:
    """The roster's assignment of an officer's request made at `at`."""
    return PeerAssigned(
        agency_id=AGENCY,
        assignment_id=uuid.uuid4(),
        incident_id=uuid.uuid4(),  # the request's id
        personnel_id="B100",
        supporter_id=supporter_id,
        supporter_agency_id=AGENCY,
        reasons=[AssignmentReason.OFFICER_REQUEST, AssignmentReason.AVAILABLE_NOW],
        category=None,
        incident_occurred_at=at,
        acknowledge_by=at + timedelta(minutes=10),
    )


def reported(hours_ago: float = 2) -> PeerAssigned:
    return peer_assigned(
        AGENCY, category=Category.FATAL_COLLISION, occurred_at=NOW - timedelta(hours=hours_ago)
    )


def moved(
    assignment: PeerAssigned, previous: str, to: str, move: int = 1, agency: str = AGENCY
) -> AssignmentReassigned:
    return AssignmentReassigned(
        event_id=uuid.uuid4(),
        agency_id=agency,
        assignment_id=assignment.assignment_id,
        previous_supporter_id=previous,
        supporter_id=to,
        supporter_agency_id=agency,
        reason=ReassignReason.NOT_ACKNOWLEDGED,
        move=move,
        for_request=AssignmentReason.OFFICER_REQUEST in assignment.reasons,
    )


def withdrawn(
    request: PeerAssigned,
    outcome: RequestOutcome = RequestOutcome.CANCELLED,
    agency: str = AGENCY,
) -> SupportRequestResolved:
    return SupportRequestResolved(agency_id=agency, request_id=request.incident_id, outcome=outcome)


class World:
    def __init__(self, runtime: ServiceRuntime, clock: SetClock) -> None:
        self.runtime, self.clock = runtime, clock
        self.care = Care(runtime.source, clock)

    async def _apply(self, handler, *values) -> None:
        async with self.runtime.sessions() as session:
            await handler(session, [Received(delivery=None, value=v) for v in values])
            await session.commit()

    async def assign(self, *events: PeerAssigned) -> None:
        await self._apply(self.care.assigned, *events)

    async def reassign(self, *events: AssignmentReassigned) -> None:
        await self._apply(self.care.reassigned, *events)

    async def resolve(self, *events: SupportRequestResolved) -> None:
        await self._apply(self.care.resolved, *events)

    async def fire(self, checkin_id: str, kind: Kind) -> None:
        fired = Fired(agency_id=AGENCY, checkin_id=uuid.UUID(checkin_id), kind=kind)
        await self._apply(self.care.fired, fired)

    async def contact(self, supporter_id: str, checkin_id: str) -> bool:
        """`supporter_id` logs a contact that reached the officer; whether it closed."""
        report = ContactBody(
            checkin_id=uuid.UUID(checkin_id),
            initiated_by=InitiatedBy.SCHEDULED_CHECKIN,
            channel=Channel.PHONE,
            duration_bucket=DurationBucket.M15_30,
            outcome=ContactOutcome.SUPPORT_PROVIDED,
        )
        supporter = Principal(sub=supporter_id, agency=AGENCY, role=Role.SUPPORTER)
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

    async def set_policy(self, category: str, policy: Policy) -> None:
        async with self.runtime.sessions() as session:
            session.add(
                PolicyRow(
                    agency_id=AGENCY,
                    category=category,
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
            query = select(CheckInRow).order_by(CheckInRow.sequence)
            return list((await session.scalars(query)).all())

    async def assignment(self, event: PeerAssigned) -> AssignmentRow | None:
        async with self.runtime.readers() as session:
            return await session.get(AssignmentRow, str(event.assignment_id))

    async def rows(self, model) -> list:
        async with self.runtime.readers() as session:
            return list((await session.scalars(select(model))).all())

    async def published(self, verb: str) -> list[dict]:
        """The payloads of the staged `checkin.<verb>` events (not timers)."""
        async with self.runtime.readers() as session:
            rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
        subject = f"ps.{AGENCY}.checkin.{verb}"
        return [json.loads(r.payload) for r in rows if r.subject == subject]

    async def staged(self) -> list[str]:
        async with self.runtime.readers() as session:
            rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
        return [r.subject for r in rows]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with runtime_on_sqlite(
        "checkins", MIGRATIONS, tmp_path, pseudonym_key="k" * 43
    ) as runtime:
        yield World(runtime, SetClock(NOW))


# An officer's request.


def test_a_requests_plan_offers_at_once_then_follows_the_policy():
    plan = Plan(request_policy(POLICY), NOW)
    first = plan.offer(1, NOW)
    assert (first.due_at, first.window_closes_at) == (NOW, NOW + POLICY.window)
    assert first.expires_at == NOW + POLICY.follow_ups[0]
    assert plan.offer(2, NOW + timedelta(days=1)).due_at == NOW + POLICY.follow_ups[0]
    assert plan.last == 1 + len(POLICY.follow_ups)


async def test_a_requests_first_offer_is_due_at_once_with_the_policys_window(world: World):
    request = requested()
    world.clock.advance(seconds=2)  # the roster's event takes a moment to arrive
    await world.assign(request)

    [offer] = await world.offers()
    assert offer.due_at == world.clock.now
    assert offer.window_closes_at == world.clock.now + POLICY.window
    assert offer.expires_at == NOW + POLICY.follow_ups[0]
    assert (await world.assignment(request)).for_request
    [scheduled] = await world.published("scheduled")
    assert scheduled["incident_id"] == str(request.incident_id)

    await world.fire(offer.checkin_id, Kind.DUE)  # the due timer, set for now
    [due] = await world.published("due")
    assert due["supporter_id"] == "S-A"


async def test_a_request_follows_the_agencys_default_policy_from_the_request(world: World):
    own = Policy(
        first_offer_after=timedelta(hours=4),
        window_closes_after=timedelta(hours=16),
        follow_ups=(timedelta(days=3),),
        follow_up_min_gap=timedelta(days=1),
    )
    await world.set_policy(DEFAULT, own)
    await world.set_policy(Category.FATAL_COLLISION.value, Policy())  # not a request's
    request = requested()
    await world.assign(request)

    [first] = await world.offers()
    assert (first.due_at, first.window_closes_at) == (NOW, NOW + timedelta(hours=12))
    world.clock.advance(hours=1)
    assert await world.contact("S-A", first.checkin_id)
    _, follow_up = await world.offers()
    assert follow_up.due_at == NOW + timedelta(days=3)
    [closed] = await world.published("closed")
    assert closed["care_ended"] is False


async def test_a_request_a_coordinator_gives_later_is_due_when_given(world: World):
    """Nobody was free: a coordinator gives it an hour on, with the request's time."""
    request = requested(at=NOW - timedelta(hours=1))
    await world.assign(request)
    [offer] = await world.offers()
    assert (offer.due_at, offer.window_closes_at) == (NOW, NOW + POLICY.window)


async def test_an_incidents_assignment_keeps_its_first_offer_at_24_hours(world: World):
    event = reported(hours_ago=2)
    await world.assign(event)
    [offer] = await world.offers()
    assert offer.due_at == event.incident_occurred_at + POLICY.first_offer_after
    assert not (await world.assignment(event)).for_request


# An assignment moves.


async def test_a_move_gives_the_assignment_and_its_open_offer_to_the_new_supporter(
    world: World,
):
    event = reported()
    await world.assign(event)
    await world.reassign(moved(event, "S-A", "S-B"))

    assignment = await world.assignment(event)
    assert (assignment.supporter_id, assignment.supporter_agency_id) == ("S-B", AGENCY)
    [offer] = await world.offers()
    assert offer.supporter_id == "S-B"
    await world.fire(offer.checkin_id, Kind.DUE)
    await world.fire(offer.checkin_id, Kind.CLOSE)
    [due], [overdue] = await world.published("due"), await world.published("overdue")
    assert due["supporter_id"] == overdue["supporter_id"] == "S-B"
    assert await world.published("reassigned") == []  # notify tells of the move itself


async def test_after_a_move_only_the_new_supporter_may_log_its_contact(world: World):
    event = reported()
    await world.assign(event)
    await world.reassign(moved(event, "S-A", "S-B"))
    [offer] = await world.offers()
    with pytest.raises(NotAllowed):
        await world.contact("S-A", offer.checkin_id)
    assert await world.contact("S-B", offer.checkin_id)
    _, follow_up = await world.offers()
    assert follow_up.supporter_id == "S-B"
    [scheduled_first, scheduled_next] = await world.published("scheduled")
    assert (scheduled_first["supporter_id"], scheduled_next["supporter_id"]) == ("S-A", "S-B")


async def test_a_closed_offer_keeps_who_had_it(world: World):
    event = reported()
    await world.assign(event)
    [first] = await world.offers()
    assert await world.contact("S-A", first.checkin_id)
    await world.reassign(moved(event, "S-A", "S-B"))
    first, follow_up = await world.offers()
    assert (first.supporter_id, follow_up.supporter_id) == ("S-A", "S-B")


async def test_a_move_heard_again_or_an_older_one_changes_nothing(world: World):
    event = reported()
    await world.assign(event)
    first_move, second_move = moved(event, "S-A", "S-B", 1), moved(event, "S-B", "S-C", 2)
    await world.reassign(first_move, second_move)
    await world.reassign(first_move.model_copy(update={"event_id": uuid.uuid4()}))  # replayed
    await world.reassign(second_move.model_copy(update={"event_id": uuid.uuid4()}))

    assert (await world.assignment(event)).supporter_id == "S-C"
    [offer] = await world.offers()
    assert offer.supporter_id == "S-C"


async def test_moves_applied_out_of_order_leave_it_with_the_latest(world: World):
    """Two replicas sharing the durable may apply move 2 before move 1."""
    event = reported()
    await world.assign(event)
    await world.reassign(moved(event, "S-B", "S-C", 2))
    await world.reassign(moved(event, "S-A", "S-B", 1))
    assert (await world.assignment(event)).supporter_id == "S-C"
    [offer] = await world.offers()
    assert offer.supporter_id == "S-C"


async def test_a_move_heard_before_its_assignment_opens_it_for_the_new_supporter(
    world: World,
):
    event = reported()
    await world.reassign(moved(event, "S-B", "S-C", 2), moved(event, "S-A", "S-B", 1))
    assert await world.offers() == []  # nothing to move yet, and no error to retry

    await world.assign(event)

    assignment = await world.assignment(event)
    assert (assignment.supporter_id, assignment.supporter_agency_id) == ("S-C", AGENCY)
    [offer] = await world.offers()
    assert offer.supporter_id == "S-C"
    [scheduled] = await world.published("scheduled")
    assert scheduled["supporter_id"] == "S-C"
    await world.fire(offer.checkin_id, Kind.DUE)
    [due] = await world.published("due")
    assert due["supporter_id"] == "S-C"


async def test_a_move_on_another_agencys_subject_moves_nothing(world: World):
    event = reported()
    await world.reassign(moved(event, "S-A", "S-X", agency="other"))
    await world.assign(event)
    await world.reassign(moved(event, "S-A", "S-Y", move=2, agency="other"))
    assert (await world.assignment(event)).supporter_id == "S-A"
    [offer] = await world.offers()
    assert offer.supporter_id == "S-A"


# A request withdrawn.


async def test_a_withdrawn_request_cancels_its_offer_and_ends_its_care(world: World):
    request = requested()
    await world.assign(request)
    world.clock.advance(minutes=3)
    await world.resolve(withdrawn(request))

    [offer] = await world.offers()
    assert (offer.status, offer.outcome, offer.closed_at) == (
        Status.CLOSED,
        "cancelled",
        world.clock.now,
    )
    assert (await world.assignment(request)).care_ended
    [closed] = await world.published("closed")
    assert (closed["outcome"], closed["care_ended"]) == ("cancelled", True)
    assert closed["assignment_id"] == str(request.assignment_id)
    timers = [s for s in await world.staged() if ".checkin.timer." in s]
    assert len(timers) == 6  # the offer's three timers set, then cancelled


async def test_a_taken_request_keeps_its_care(world: World):
    request = requested()
    await world.assign(request)
    await world.resolve(withdrawn(request, RequestOutcome.TAKEN))
    [offer] = await world.offers()
    assert offer.status == Status.SCHEDULED
    assert await world.published("closed") == []
    [row] = await world.rows(RequestRow)
    assert not row.withdrawn


async def test_a_withdrawal_names_only_its_own_agencys_request(world: World):
    request = requested()
    await world.assign(request)
    await world.resolve(withdrawn(request, agency="other"))
    [offer] = await world.offers()
    assert offer.status == Status.SCHEDULED


async def test_a_request_withdrawn_before_its_assignment_is_heard_of_opens_cancelled(
    world: World,
):
    request = requested()
    await world.resolve(withdrawn(request))
    await world.assign(request)

    [offer] = await world.offers()
    assert (offer.status, offer.outcome) == (Status.CLOSED, "cancelled")
    assert (await world.assignment(request)).care_ended
    [scheduled] = await world.published("scheduled")
    [closed] = await world.published("closed")
    assert scheduled["checkin_id"] == closed["checkin_id"] == offer.checkin_id
    assert (closed["outcome"], closed["care_ended"]) == ("cancelled", True)


async def test_a_request_withdrawn_while_nobody_had_it_leaves_a_record_retention_purges(
    world: World,
):
    request = requested()
    await world.resolve(withdrawn(request))
    await world.reassign(moved(reported(), "S-A", "S-B"))  # and a move never followed
    assert await world.offers() == []
    assert len(await world.rows(RequestRow)) == len(await world.rows(MoveRow)) == 1

    days = world.runtime.settings.care_retention_days
    await retention.purge(world.runtime, NOW + timedelta(days=days - 1))
    assert len(await world.rows(RequestRow)) == len(await world.rows(MoveRow)) == 1
    await retention.purge(world.runtime, NOW + timedelta(days=days + 1))
    assert await world.rows(RequestRow) == await world.rows(MoveRow) == []
