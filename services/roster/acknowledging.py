"""A supporter takes an assignment: "I'll reach them by ..." (docs/requests.md).

The acknowledgment stops the assignment's deadline (`deadlines`), so it will not move,
and for an officer's request it is the answer the officer waits for: the request is
taken, and the officer's page shows the peer's first name and the time. A contact that
check-ins close an offer with (contacted or declined) means the supporter reached the
officer, so it counts as an acknowledgment when none was given.

`AssignmentAcknowledged` carries how long the officer waited since the first
assignment, across any moves, and whether that was within the agency's deadline: what
"every request answered within 10 minutes" is counted from.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from opentelemetry.context import Context
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.auth import Principal
from shared.bus import Received
from shared.errors import Conflict, Invalid, NotAllowed, NotFound
from shared.events import (
    AssignmentAcknowledged,
    CheckInClosed,
    Clock,
    SupportRequestResolved,
    utcnow,
)
from shared.ids import derived_event_id
from shared.vocab import CheckInOutcome, RequestOutcome

from . import deadlines, store
from .assignment_store import MatchRow, Outcome, RequestRow, RequestState

# How far ahead a supporter may promise to reach the officer, and how far back a time
# may lie (a phone's clock a little behind the server's).
LONGEST_PROMISE = timedelta(hours=72)
SKEW = timedelta(minutes=5)
REACHED = frozenset({CheckInOutcome.CONTACTED, CheckInOutcome.DECLINED})


async def current(session: AsyncSession, caller: Principal, assignment_id: uuid.UUID) -> MatchRow:
    """The caller's assignment as it stands; refused to anyone but its supporter."""
    row = await session.scalar(
        select(MatchRow).where(MatchRow.assignment_id == str(assignment_id)).limit(1)
    )
    if row is None:
        raise NotFound("No assignment has this id.")
    if (
        row.outcome != Outcome.ASSIGNED.value
        or row.supporter_id != caller.sub
        or row.supporter_agency_id != caller.agency
    ):
        raise NotAllowed("Only the supporter it is assigned to, while it is open, may.")
    return row


async def acknowledge(
    session: AsyncSession,
    caller: Principal,
    assignment_id: uuid.UUID,
    reach_by: datetime,
    *,
    source: str,
    clock: Clock = utcnow,
) -> MatchRow:
    """The supporter takes their assignment; saying it again changes nothing."""
    row = await current(session, caller, assignment_id)
    if row.acknowledged_at is not None:
        return row
    now = clock()
    if not now - SKEW <= reach_by <= now + LONGEST_PROMISE:
        raise Invalid("reach_by", "Choose a time from now to 72 hours ahead.")
    if not await _taken(session, row, now, max(reach_by, now), caller.sub, source, Context()):
        raise Conflict("This assignment has just moved to another supporter.")
    await session.refresh(row)
    return row


async def reached(
    session: AsyncSession, items: list[Received[CheckInClosed]], *, source: str, clock: Clock
) -> None:
    """Offers closed by a contact: the supporter reached the officer, which answers an
    assignment not yet acknowledged (its deadline must not move it any more)."""
    for item in items:
        event = item.value
        if event.outcome not in REACHED or event.assignment_id is None:
            continue
        row = await session.scalar(
            select(MatchRow)
            .where(
                MatchRow.assignment_id == str(event.assignment_id),
                MatchRow.acknowledged_at.is_(None),
                MatchRow.supporter_id.is_not(None),
            )
            .limit(1)
        )
        if row is not None:
            now = clock()
            await _taken(session, row, now, now, row.supporter_id, source, item.trace)


async def _taken(
    session: AsyncSession,
    row: MatchRow,
    now: datetime,
    reach_by: datetime,
    supporter_id: str,
    source: str,
    trace: Context,
) -> bool:
    """Record the acknowledgment if the assignment is still `supporter_id`'s and not
    acknowledged; stage its events and cancel its deadline. False if it moved."""
    changed = await session.execute(
        update(MatchRow)
        .where(
            MatchRow.assignment_id == row.assignment_id,
            MatchRow.supporter_id == supporter_id,
            MatchRow.acknowledged_at.is_(None),
        )
        .values(acknowledged_at=now, reach_by=reach_by)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        return False
    settings = await store.agency_settings(session, row.agency_id)
    started = await _started(session, row)
    waited = max(now - started, timedelta(0))
    staged = [
        AssignmentAcknowledged(
            event_id=derived_event_id("acknowledged", row.assignment_id),
            agency_id=row.agency_id,
            assignment_id=row.assignment_id,
            supporter_id=supporter_id,
            reach_by=reach_by,
            waited_seconds=int(waited.total_seconds()),
            within_deadline=waited <= settings.acknowledge_within(row.for_request),
            for_request=row.for_request,
        )
    ]
    if row.for_request:
        resolved = await session.execute(
            update(RequestRow)
            .where(
                RequestRow.request_id == row.incident_id,
                RequestRow.state.in_((RequestState.SENT.value, RequestState.ESCALATED.value)),
            )
            .values(state=RequestState.TAKEN.value, resolved_at=now)
            .execution_options(synchronize_session=False)
        )
        if resolved.rowcount == 1:
            staged.append(
                SupportRequestResolved(
                    event_id=derived_event_id("request-resolved", row.incident_id),
                    agency_id=row.agency_id,
                    request_id=row.incident_id,
                    outcome=RequestOutcome.TAKEN,
                )
            )
    await outbox.add_all(session, [(event, trace) for event in staged], source=source)
    await outbox.add_messages(
        session, [deadlines.cancelling(row.agency_id, row.assignment_id, row.moves)]
    )
    return True


async def _started(session: AsyncSession, row: MatchRow) -> datetime:
    """When the officer started waiting: the request, or the first assignment."""
    if row.for_request:
        request = await session.get(RequestRow, row.incident_id)
        if request is not None:
            return request.requested_at
    return row.decided_at
