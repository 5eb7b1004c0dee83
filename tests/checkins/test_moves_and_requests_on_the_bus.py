"""Nobody left waiting, through check-ins: a moved assignment is listed for its new
supporter, and its offer's due timer prompts them; an officer's request is offered at
once, and withdrawn, its offer is cancelled; in either order on the bus. Real NATS
(message schedules), real HTTP, both databases."""

from __future__ import annotations

from datetime import timedelta

from shared.events import (
    CheckInClosed,
    CheckInDue,
    CheckInScheduled,
    PeerAssigned,
    SupportRequestResolved,
)
from shared.streams import CHECKINS
from shared.tokens import Role
from shared.vocab import CheckInOutcome, RequestOutcome
from tests.checkins.scenario import assigned, compress_policy, reassigned, requested
from tests.support.bus import EventLog, publish
from tests.support.clients import client
from tests.support.waiting import await_until

# Due 6 s after the incident: time to move the assignment before it is.
SOON = {"first_offer_after": "PT6S", "window_closes_after": "PT60S", "follow_ups": []}
# A window of two hours, and nothing else due during a test.
SLOW = {"first_offer_after": "PT1H", "window_closes_after": "PT3H", "follow_ups": []}


async def listed(checkins, agency: str, supporter_id: str) -> set[str]:
    """The assignments `GET /v1/assignments` lists for the supporter."""
    async with client(checkins, agency, Role.SUPPORTER, supporter_id) as supporter:
        answer = await supporter.get("/v1/assignments")
    assert answer.status_code == 200, answer.text
    return {a["assignment_id"] for a in answer.json()}


def withdrawal(request: PeerAssigned) -> SupportRequestResolved:
    return SupportRequestResolved(
        agency_id=request.agency_id,
        request_id=request.incident_id,
        outcome=RequestOutcome.CANCELLED,
    )


async def test_a_moved_assignment_is_listed_for_the_new_supporter_who_is_prompted(checkins, agency):
    await compress_policy(checkins, agency, SOON)
    assignment = assigned(agency, supporter_id="S-A")
    mine = str(assignment.assignment_id)
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.*", CHECKINS.name) as log:
        await publish(checkins.nats_url, assignment)
        [offer] = await log.wait_for(CheckInScheduled)
        assert mine in await listed(checkins, agency, "S-A")

        await publish(checkins.nats_url, reassigned(assignment, "S-B"))

        async def moved() -> bool:
            return mine in await listed(checkins, agency, "S-B")

        await await_until(moved, what="the assignment listed for S-B")
        assert mine not in await listed(checkins, agency, "S-A")
        [due] = await log.wait_for(CheckInDue, timeout=15)
    assert offer.supporter_id == "S-A"
    assert (due.checkin_id, due.supporter_id) == (offer.checkin_id, "S-B")


async def test_a_move_published_before_its_assignment_opens_it_for_the_new_supporter(
    checkins, agency
):
    await compress_policy(checkins, agency, SLOW)
    assignment = assigned(agency, supporter_id="S-A")
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.*", CHECKINS.name) as log:
        await publish(checkins.nats_url, reassigned(assignment, "S-B"), assignment)
        await log.wait_for(CheckInScheduled)

    async def moved() -> bool:
        return str(assignment.assignment_id) in await listed(checkins, agency, "S-B")

    # The two durables race: the offer is planned for S-B, or for S-A and then moved
    # (its CheckInScheduled may name either); either way it ends with S-B alone.
    await await_until(moved, what="the assignment listed for S-B")
    assert await listed(checkins, agency, "S-A") == set()


async def test_a_request_is_offered_at_once_and_withdrawn_its_offer_is_cancelled(checkins, agency):
    await compress_policy(checkins, agency, SLOW)
    request = requested(agency)
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.*", CHECKINS.name) as log:
        await publish(checkins.nats_url, request)
        [offer] = await log.wait_for(CheckInScheduled)
        [due] = await log.wait_for(CheckInDue, timeout=10)  # now, not in an hour
        await publish(checkins.nats_url, withdrawal(request))
        [closed] = await log.wait_for(CheckInClosed)
    assert offer.due_at - request.incident_occurred_at < timedelta(seconds=10)
    assert offer.window_closes_at - offer.due_at == timedelta(hours=2)
    assert due.checkin_id == offer.checkin_id
    assert (closed.checkin_id, closed.outcome) == (offer.checkin_id, CheckInOutcome.CANCELLED)
    assert closed.care_ended is True


async def test_a_request_withdrawn_before_its_assignment_is_applied_ends_the_same(checkins, agency):
    await compress_policy(checkins, agency, SLOW)
    request = requested(agency)
    async with EventLog(checkins.nats_url, f"ps.{agency}.checkin.*", CHECKINS.name) as log:
        await publish(checkins.nats_url, withdrawal(request), request)
        [offer] = await log.wait_for(CheckInScheduled)
        [closed] = await log.wait_for(CheckInClosed)
    assert (closed.checkin_id, closed.outcome) == (offer.checkin_id, CheckInOutcome.CANCELLED)
    assert closed.care_ended is True
