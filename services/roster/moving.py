"""Nobody left waiting: an assignment nobody acknowledged moves on (docs/requests.md).

When an assignment's deadline fires (`deadlines`) and its supporter has not said "I'll
reach them by ...", it moves to the next-best supporter by the same rules as the first
match, every supporter tried before left out: the first one's slot is given back, the
new one gets their own deadline, and `AssignmentReassigned` (reason
`not_acknowledged`) tells check-ins and notify. After the agency's `max_moves`, or when
nobody else fits and is free, it stays with its current supporter (who may still take
it) and the coordinators are alerted (`AssignmentEscalated`), told only that something
is waiting. A coordinator may then give it to a supporter of their choice (`give`).

Every change is a conditional UPDATE from the state the decision was taken on (the same
move, not acknowledged, not escalated), so a late deadline, a redelivery, another
replica or an acknowledgment racing the deadline change it once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from opentelemetry.context import Context
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.auth import Principal, ensure_agency
from shared.bus import Received
from shared.errors import Conflict, NotFound
from shared.events import AssignmentReassigned, PeerAssigned
from shared.ids import derived_event_id
from shared.vocab import AssignmentReason, Category, EscalationReason, ReassignReason

from . import deadlines
from .assigning import Assigner, escalated
from .assignment_store import MatchRow, Outcome, RequestRow, RequestState
from .domain import OFFER_WINDOW, REQUEST_WINDOW, Preferences
from .matching import Incident, RosterIndex, Unfilled


async def deadlines_passed(
    assigner: Assigner, session: AsyncSession, items: list[Received[deadlines.Fired]]
) -> None:
    """The roster-deadlines consumer: each fired deadline moves its assignment on."""
    async with assigner.matching(session) as index:
        for item in items:
            await _move_on(assigner, index, session, item.value, item.trace)


async def _move_on(
    assigner: Assigner,
    index: RosterIndex,
    session: AsyncSession,
    fired: deadlines.Fired,
    trace: Context,
) -> None:
    row = await _waiting_row(session, str(fired.assignment_id))
    if (
        row is None
        or row.outcome != Outcome.ASSIGNED.value
        or row.acknowledged_at is not None
        or row.escalated_at is not None
        or row.moves != fired.move
    ):
        return  # taken, moved, escalated, closed or released since the deadline was set
    now = assigner.clock()
    settings = assigner.settings_of(row.agency_id)
    if row.moves >= settings.max_moves:
        await _escalate(session, row, EscalationReason.MOVES_EXHAUSTED, now, trace, assigner)
        return
    tried = frozenset([*row.tried, row.supporter_id])
    incident = await _incident_of(session, row, now)
    asked = await _asked(session, row)
    within = REQUEST_WINDOW if row.for_request else OFFER_WINDOW
    while True:
        result = index.assign_again(
            incident, row.personnel_id, now, excluded=tried, asked=asked, within=within
        )
        if isinstance(result, Unfilled):
            await _escalate(session, row, EscalationReason.NO_ONE_LEFT, now, trace, assigner)
            return
        if await assigner.take_slot(session, result.supporter_id):
            break
    moved = await _hand_over(
        assigner,
        session,
        row,
        result.supporter_id,
        result.supporter_agency_id,
        now,
        trace,
        ReassignReason.NOT_ACKNOWLEDGED,
    )
    if not moved:  # acknowledged or moved by another replica meanwhile
        await assigner.give_back(session, result.supporter_id)


async def give(
    assigner: Assigner,
    session: AsyncSession,
    caller: Principal,
    assignment_id: uuid.UUID,
    supporter_id: str,
) -> MatchRow:
    """A coordinator gives a waiting (escalated) assignment of their agency to one of
    its supporters, who must be free of conflicts and below their cap. The coordinator
    never learns the officer: a refusal says only that this supporter cannot take it."""
    async with assigner.matching(session) as index:
        row = await _waiting_row(session, str(assignment_id))
        if row is not None:
            ensure_agency(caller, row.agency_id)
        if row is None or not _waiting(row):
            raise NotFound("No assignment of your agency is waiting with this id.")
        now = assigner.clock()
        incident = await _incident_of(session, row, now)
        supporter = index.known(supporter_id)
        if (
            supporter is None
            or supporter.agency_id != caller.agency
            or supporter_id == row.supporter_id
            or not index.fits(incident, row.personnel_id, supporter_id, now)
            or not await assigner.take_slot(session, supporter_id)
        ):
            raise Conflict("This supporter cannot take it.", field="supporter_id")
        trace = Context()
        if row.outcome == Outcome.UNFILLED.value:
            await _first_supporter(assigner, session, row, supporter_id, supporter.agency_id, now)
        elif not await _hand_over(
            assigner,
            session,
            row,
            supporter_id,
            supporter.agency_id,
            now,
            trace,
            ReassignReason.COORDINATOR,
        ):
            raise Conflict("It was taken meanwhile.")
        await session.flush()
        await session.refresh(row)
        return row


def _waiting(row: MatchRow) -> bool:
    """Escalated, and neither taken nor ended."""
    return (
        row.escalated_at is not None
        and row.acknowledged_at is None
        and row.outcome in (Outcome.ASSIGNED.value, Outcome.UNFILLED.value)
    )


async def waiting(session: AsyncSession, agency_id: str) -> list[MatchRow]:
    """The agency's escalated assignments nobody has taken yet, oldest first."""
    rows = await session.scalars(
        select(MatchRow)
        .where(
            MatchRow.agency_id == agency_id,
            MatchRow.escalated_at.is_not(None),
            MatchRow.acknowledged_at.is_(None),
            MatchRow.outcome.in_((Outcome.ASSIGNED.value, Outcome.UNFILLED.value)),
        )
        .order_by(MatchRow.escalated_at, MatchRow.assignment_id)
    )
    return list(rows)


async def _hand_over(
    assigner: Assigner,
    session: AsyncSession,
    row: MatchRow,
    supporter_id: str,
    supporter_agency_id: str,
    now: datetime,
    trace: Context,
    reason: ReassignReason,
) -> bool:
    """Move the assignment from its supporter to `supporter_id` (whose slot is taken),
    if it is still in the state `row` shows; False if it changed meanwhile."""
    previous, move = row.supporter_id, row.moves + 1
    acknowledge_by = now + assigner.settings_of(row.agency_id).acknowledge_within(row.for_request)
    changed = await session.execute(
        update(MatchRow)
        .where(
            MatchRow.assignment_id == row.assignment_id,
            MatchRow.outcome == Outcome.ASSIGNED.value,
            MatchRow.acknowledged_at.is_(None),
            MatchRow.moves == row.moves,
        )
        .values(
            supporter_id=supporter_id,
            supporter_agency_id=supporter_agency_id,
            moves=move,
            tried=[*row.tried, previous],
            acknowledge_by=acknowledge_by,
            escalated_at=None,
            escalation=None,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        return False
    await assigner.give_back(session, previous)
    await _back_to_sent(session, row)
    event = AssignmentReassigned(
        event_id=derived_event_id("reassigned", row.assignment_id, move),
        agency_id=row.agency_id,
        assignment_id=row.assignment_id,
        previous_supporter_id=previous,
        supporter_id=supporter_id,
        supporter_agency_id=supporter_agency_id,
        reason=reason,
        move=move,
        for_request=row.for_request,
        acknowledge_by=acknowledge_by,
    )
    await outbox.add_all(session, [(event, trace)], source=assigner.source)
    await outbox.add_messages(
        session, [deadlines.setting(row.agency_id, row.assignment_id, move, acknowledge_by, trace)]
    )
    return True


async def _first_supporter(
    assigner: Assigner,
    session: AsyncSession,
    row: MatchRow,
    supporter_id: str,
    supporter_agency_id: str,
    now: datetime,
) -> None:
    """An officer's request nobody could take, given by a coordinator: its first
    supporter, announced as any assignment is (`PeerAssigned`)."""
    move = row.moves + 1
    acknowledge_by = now + assigner.settings_of(row.agency_id).acknowledge_within(row.for_request)
    changed = await session.execute(
        update(MatchRow)
        .where(MatchRow.assignment_id == row.assignment_id, MatchRow.outcome == row.outcome)
        .values(
            outcome=Outcome.ASSIGNED.value,
            supporter_id=supporter_id,
            supporter_agency_id=supporter_agency_id,
            reasons=[AssignmentReason.OFFICER_REQUEST.value],
            moves=move,
            acknowledge_by=acknowledge_by,
            escalated_at=None,
            escalation=None,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        raise Conflict("It was taken meanwhile.")
    await _back_to_sent(session, row)
    event = PeerAssigned(
        event_id=derived_event_id("peer-assigned", row.assignment_id),
        agency_id=row.agency_id,
        assignment_id=row.assignment_id,
        incident_id=row.incident_id,
        personnel_id=row.personnel_id,
        supporter_id=supporter_id,
        supporter_agency_id=supporter_agency_id,
        reasons=[AssignmentReason.OFFICER_REQUEST],
        incident_occurred_at=row.decided_at,
        acknowledge_by=acknowledge_by,
    )
    await outbox.add_all(session, [(event, None)], source=assigner.source)
    await outbox.add_messages(
        session, [deadlines.setting(row.agency_id, row.assignment_id, move, acknowledge_by, None)]
    )


async def _escalate(
    session: AsyncSession,
    row: MatchRow,
    reason: EscalationReason,
    now: datetime,
    trace: Context,
    assigner: Assigner,
) -> None:
    changed = await session.execute(
        update(MatchRow)
        .where(
            MatchRow.assignment_id == row.assignment_id,
            MatchRow.acknowledged_at.is_(None),
            MatchRow.escalated_at.is_(None),
            MatchRow.moves == row.moves,
        )
        .values(escalated_at=now, escalation=reason.value)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        return
    await _request_state(session, row, RequestState.SENT, RequestState.ESCALATED)
    event = escalated(row.agency_id, row.assignment_id, reason, row.moves, row.for_request)
    await outbox.add_all(session, [(event, trace)], source=assigner.source)


async def _back_to_sent(session: AsyncSession, row: MatchRow) -> None:
    """An escalated request given to a supporter is waiting for them again."""
    await _request_state(session, row, RequestState.ESCALATED, RequestState.SENT)


async def _request_state(
    session: AsyncSession, row: MatchRow, was: RequestState, becomes: RequestState
) -> None:
    """Move the request behind `row` (if it is one) from `was` to `becomes`."""
    if row.for_request:
        await session.execute(
            update(RequestRow)
            .where(RequestRow.request_id == row.incident_id, RequestRow.state == was.value)
            .values(state=becomes.value)
        )


async def _waiting_row(session: AsyncSession, assignment_id: str) -> MatchRow | None:
    return await session.scalar(
        select(MatchRow).where(MatchRow.assignment_id == assignment_id).limit(1)
    )


async def _incident_of(session: AsyncSession, row: MatchRow, now: datetime) -> Incident:
    """What matching must keep out for this assignment: everyone matched for the same
    incident (all involved in it), or for a request the officer alone."""
    involved = await session.scalars(
        select(MatchRow.personnel_id).where(MatchRow.incident_id == row.incident_id)
    )
    return Incident(
        incident_id=uuid.UUID(row.incident_id),
        agency_id=row.agency_id,
        category=Category(row.category) if row.category else None,
        occurred_at=row.decided_at if not row.for_request else now,
        involved=frozenset(involved),
    )


async def _asked(session: AsyncSession, row: MatchRow) -> Preferences | None:
    """A request's own wishes; None (the stored preferences) for any other assignment."""
    if not row.for_request:
        return None
    request = await session.get(RequestRow, row.incident_id)
    if request is None:
        return Preferences()
    return request_preferences(request)


def request_preferences(request: RequestRow) -> Preferences:
    languages = frozenset({request.language}) if request.language else frozenset()
    return Preferences(
        preferred_gender=request.preferred_gender,
        languages=languages,
        outside_agency=request.outside_agency,
    )
