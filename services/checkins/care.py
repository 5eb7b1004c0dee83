"""Check-ins on the bus: an assignment's offers, from planned to closed.

- `PeerAssigned` opens the assignment and plans its first offer: `CheckInScheduled`
  and the offer's timers (`timers`).
- A fired timer moves the offer on, after re-reading its state: `due` prompts the
  supporter (`CheckInDue`), `close` tells the coordinator the window passed
  (`CheckInOverdue`), `expire` closes it as `expired`. A timer for an offer that is no
  longer in the state it expects does nothing.
- `IncidentRetracted` closes the incident's open offers as `cancelled`.

Closing an offer (here, or by a contact: `contacts`) cancels its timers and plans the
next offer unless the officer declined or the incident was retracted. `CheckInClosed`
says whether the care of the assignment has ended (`care_ended`: no further regular
offer), so the roster gives the supporter's slot back.

Every state change is a conditional UPDATE from the state it expects, so redeliveries,
late timers and a contact racing a timer (or another replica) change it once. What a
call decides is staged in the outbox together at its end (`_Staged`): a batch of 256
assignments is a few statements, not a thousand (`bench/timers.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from opentelemetry.context import Context
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.bus import Received
from shared.events import (
    CheckInClosed,
    CheckInDue,
    CheckInOverdue,
    CheckInScheduled,
    Clock,
    Event,
    IncidentRetracted,
    PeerAssigned,
    utcnow,
)
from shared.ids import derived_event_id
from shared.vocab import AssignmentReason, Category, CheckInOutcome

from . import timers
from .domain import OPEN, Plan, Policy, Status, ends_offers
from .policies import policy_for
from .store import AssignmentRow, CheckInRow
from .timers import Fired, Kind

log = logging.getLogger(__name__)


@dataclass
class _Staged:
    """What one call publishes, staged in the outbox when it is done: its events in
    order, the timers it sets and cancels, and the policies it read."""

    events: list[tuple[Event, Context | None]] = field(default_factory=list)
    messages: timers.Staged = field(default_factory=list)
    policies: dict[tuple[str, str | None], Policy] = field(default_factory=dict)

    async def write(self, session: AsyncSession, source: str) -> None:
        await outbox.add_all(session, self.events, source=source)
        await outbox.add_messages(session, self.messages)


class Care:
    """The check-ins' consumers and the closing of an offer. `clock` is the time every
    decision is taken at (a test's own clock in the unit tier)."""

    def __init__(self, source: str, clock: Clock = utcnow) -> None:
        self.source = source
        self.clock = clock

    # Consumers.

    async def assigned(self, session: AsyncSession, items: list[Received[PeerAssigned]]) -> None:
        now = self.clock()
        staged = _Staged()
        wanted = {str(item.value.assignment_id) for item in items}
        known = set(
            await session.scalars(
                select(AssignmentRow.assignment_id).where(AssignmentRow.assignment_id.in_(wanted))
            )
        )
        with session.no_autoflush:
            for item in items:
                event = item.value
                assignment_id = str(event.assignment_id)
                if assignment_id in known:
                    continue  # the same assignment again (a replay under a new event id)
                known.add(assignment_id)
                assignment = AssignmentRow(
                    assignment_id=assignment_id,
                    agency_id=event.agency_id,
                    incident_id=str(event.incident_id),
                    personnel_id=event.personnel_id,
                    supporter_id=event.supporter_id,
                    supporter_agency_id=event.supporter_agency_id,
                    category=event.category,
                    incident_occurred_at=event.incident_occurred_at or event.occurred_at,
                    assigned_at=now,
                    care_for_carer=AssignmentReason.CARE_FOR_CARER in event.reasons,
                    last_activity_at=now,
                )
                session.add(assignment)
                plan = await self._plan_of(session, assignment, staged)
                self._schedule(session, assignment, plan, 1, now, item.trace, staged)
        await staged.write(session, self.source)

    async def fired(self, session: AsyncSession, items: list[Received[Fired]]) -> None:
        now = self.clock()
        staged = _Staged()
        for item in items:
            fired = item.value
            checkin_id = str(fired.checkin_id)
            if fired.kind is Kind.DUE:
                expected, to = (Status.SCHEDULED,), Status.DUE
            elif fired.kind is Kind.CLOSE:
                expected, to = (Status.SCHEDULED, Status.DUE), Status.OVERDUE
            else:
                await self._close(
                    session, checkin_id, CheckInOutcome.EXPIRED, now, item.trace, staged
                )
                continue
            await self._advance(session, checkin_id, expected, to, item.trace, staged)
        await staged.write(session, self.source)

    async def retracted(
        self, session: AsyncSession, items: list[Received[IncidentRetracted]]
    ) -> None:
        now = self.clock()
        staged = _Staged()
        for item in items:
            open_checkins = await session.scalars(
                select(CheckInRow.checkin_id)
                .join(AssignmentRow, AssignmentRow.assignment_id == CheckInRow.assignment_id)
                .where(
                    AssignmentRow.incident_id == str(item.value.incident_id),
                    CheckInRow.status.in_(OPEN),
                )
            )
            for checkin_id in open_checkins.all():
                await self._close(
                    session, checkin_id, CheckInOutcome.CANCELLED, now, item.trace, staged
                )
        await staged.write(session, self.source)

    # Use cases.

    async def close(
        self,
        session: AsyncSession,
        checkin_id: str,
        outcome: CheckInOutcome,
        now: datetime,
        trace: Context | None = None,
    ) -> bool:
        """Close an open check-in with `outcome` and plan what follows; False if it was
        not open."""
        staged = _Staged()
        closed = await self._close(session, checkin_id, outcome, now, trace, staged)
        await staged.write(session, self.source)
        return closed

    # Inside.

    async def _close(
        self,
        session: AsyncSession,
        checkin_id: str,
        outcome: CheckInOutcome,
        now: datetime,
        trace: Context | None,
        staged: _Staged,
    ) -> bool:
        closed = (
            await session.execute(
                update(CheckInRow)
                .where(CheckInRow.checkin_id == checkin_id, CheckInRow.status.in_(OPEN))
                .values(status=Status.CLOSED, outcome=outcome, closed_at=now)
                .returning(CheckInRow.assignment_id, CheckInRow.agency_id, CheckInRow.sequence)
            )
        ).first()
        if closed is None:
            return False
        assignment_id, agency_id, sequence = closed
        staged.messages += timers.cancelling(agency_id, checkin_id)
        assignment = await session.get(AssignmentRow, assignment_id)
        assignment.last_activity_at = now
        plan = await self._plan_of(session, assignment, staged)
        finished = ends_offers(outcome)
        if outcome is CheckInOutcome.DECLINED:
            assignment.declined = True
        care_ended = finished or plan.ends_care(sequence)
        assignment.care_ended = assignment.care_ended or care_ended
        staged.events.append(
            (
                CheckInClosed(
                    event_id=derived_event_id("checkin-closed", checkin_id),
                    agency_id=agency_id,
                    checkin_id=checkin_id,
                    outcome=outcome,
                    assignment_id=assignment_id,
                    care_ended=care_ended,
                ),
                trace,
            )
        )
        if not finished and sequence < plan.last:
            self._schedule(session, assignment, plan, sequence + 1, now, trace, staged)
        return True

    async def _plan_of(
        self, session: AsyncSession, assignment: AssignmentRow, staged: _Staged
    ) -> Plan:
        """The assignment's offers under its agency's policy, read once per call."""
        key = (assignment.agency_id, assignment.category)
        if key not in staged.policies:
            category = Category(assignment.category) if assignment.category else None
            staged.policies[key] = await policy_for(session, assignment.agency_id, category)
        return Plan(staged.policies[key], assignment.incident_occurred_at)

    def _schedule(
        self,
        session: AsyncSession,
        assignment: AssignmentRow,
        plan: Plan,
        sequence: int,
        now: datetime,
        trace: Context | None,
        staged: _Staged,
    ) -> None:
        """Schedule offer `sequence` of the assignment, with its timers."""
        offer = plan.offer(sequence, now)
        checkin_id = str(derived_event_id("checkin", assignment.assignment_id, sequence))
        session.add(
            CheckInRow(
                checkin_id=checkin_id,
                assignment_id=assignment.assignment_id,
                agency_id=assignment.agency_id,
                supporter_id=assignment.supporter_id,
                sequence=sequence,
                due_at=offer.due_at,
                window_closes_at=offer.window_closes_at,
                expires_at=offer.expires_at,
                status=Status.SCHEDULED,
            )
        )
        staged.messages += timers.timer_messages(
            assignment.agency_id,
            checkin_id,
            {
                Kind.DUE: offer.due_at,
                Kind.CLOSE: offer.window_closes_at,
                Kind.EXPIRE: offer.expires_at,
            },
            trace,
        )
        staged.events.append(
            (
                CheckInScheduled(
                    event_id=derived_event_id("checkin-scheduled", checkin_id),
                    agency_id=assignment.agency_id,
                    checkin_id=checkin_id,
                    assignment_id=assignment.assignment_id,
                    incident_id=assignment.incident_id,
                    supporter_id=assignment.supporter_id,
                    due_at=offer.due_at,
                    window_closes_at=offer.window_closes_at,
                    sequence=sequence,
                ),
                trace,
            )
        )

    async def _advance(
        self,
        session: AsyncSession,
        checkin_id: str,
        expected: tuple[Status, ...],
        to: Status,
        trace: Context,
        staged: _Staged,
    ) -> None:
        moved = (
            await session.execute(
                update(CheckInRow)
                .where(CheckInRow.checkin_id == checkin_id, CheckInRow.status.in_(expected))
                .values(status=to)
                .returning(CheckInRow.assignment_id, CheckInRow.agency_id, CheckInRow.supporter_id)
            )
        ).first()
        if moved is None:
            return  # closed, or already past this step: the timer is late, nothing to do
        assignment_id, agency_id, supporter_id = moved
        kind = CheckInDue if to is Status.DUE else CheckInOverdue
        staged.events.append(
            (
                kind(
                    event_id=derived_event_id(kind.verb, checkin_id),
                    agency_id=agency_id,
                    checkin_id=checkin_id,
                    assignment_id=assignment_id,
                    supporter_id=supporter_id,
                ),
                trace,
            )
        )
