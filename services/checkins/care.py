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
late timers and a contact racing a timer (or another replica) change it once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

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
    IncidentRetracted,
    PeerAssigned,
)
from shared.ids import derived_event_id
from shared.vocab import AssignmentReason, Category, CheckInOutcome

from . import timers
from .policies import policy_for
from .policy import Plan
from .store import OPEN, AssignmentRow, CheckInRow, Status
from .timers import Fired, Kind

log = logging.getLogger(__name__)


class Care:
    def __init__(self, source: str) -> None:
        self.source = source

    # Consumers.

    async def assigned(self, session: AsyncSession, items: list[Received[PeerAssigned]]) -> None:
        now = datetime.now(UTC)
        for item in items:
            event = item.value
            assignment_id = str(event.assignment_id)
            if await session.get(AssignmentRow, assignment_id) is not None:
                continue  # the same assignment again (a replay under a new event id)
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
            await self._plan(session, assignment, 1, now, item.trace)

    async def fired(self, session: AsyncSession, items: list[Received[Fired]]) -> None:
        now = datetime.now(UTC)
        for item in items:
            fired = item.value
            checkin_id = str(fired.checkin_id)
            if fired.kind is Kind.DUE:
                await self._advance(
                    session, checkin_id, (Status.SCHEDULED,), Status.DUE, item.trace
                )
            elif fired.kind is Kind.CLOSE:
                await self._advance(
                    session, checkin_id, (Status.SCHEDULED, Status.DUE), Status.OVERDUE, item.trace
                )
            else:
                await self.close(session, checkin_id, CheckInOutcome.EXPIRED, now, item.trace)

    async def retracted(
        self, session: AsyncSession, items: list[Received[IncidentRetracted]]
    ) -> None:
        now = datetime.now(UTC)
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
                await self.close(session, checkin_id, CheckInOutcome.CANCELLED, now, item.trace)

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
        timers.cancel_timers(session, agency_id, checkin_id)
        assignment = await session.get(AssignmentRow, assignment_id)
        assignment.last_activity_at = now
        plan = await self._plan_of(session, assignment)
        finished = outcome in (CheckInOutcome.DECLINED, CheckInOutcome.CANCELLED)
        if outcome is CheckInOutcome.DECLINED:
            assignment.declined = True
        care_ended = finished or plan.ends_care(sequence)
        assignment.care_ended = assignment.care_ended or care_ended
        outbox.add(
            session,
            CheckInClosed(
                event_id=derived_event_id("checkin-closed", checkin_id),
                agency_id=agency_id,
                checkin_id=checkin_id,
                outcome=outcome,
                assignment_id=assignment_id,
                care_ended=care_ended,
            ),
            source=self.source,
            trace=trace,
        )
        if not finished and sequence < plan.last:
            await self._plan(session, assignment, sequence + 1, now, trace, plan)
        return True

    # Inside.

    async def _plan_of(self, session: AsyncSession, assignment: AssignmentRow) -> Plan:
        category = Category(assignment.category) if assignment.category else None
        policy = await policy_for(session, assignment.agency_id, category)
        return Plan(policy, assignment.incident_occurred_at)

    async def _plan(
        self,
        session: AsyncSession,
        assignment: AssignmentRow,
        sequence: int,
        now: datetime,
        trace: Context | None,
        plan: Plan | None = None,
    ) -> None:
        """Schedule offer `sequence` of the assignment, with its timers."""
        plan = plan or await self._plan_of(session, assignment)
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
        timers.set_timers(
            session,
            assignment.agency_id,
            checkin_id,
            {
                Kind.DUE: offer.due_at,
                Kind.CLOSE: offer.window_closes_at,
                Kind.EXPIRE: offer.expires_at,
            },
        )
        outbox.add(
            session,
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
            source=self.source,
            trace=trace,
        )

    async def _advance(
        self,
        session: AsyncSession,
        checkin_id: str,
        expected: tuple[Status, ...],
        to: Status,
        trace: Context,
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
        outbox.add(
            session,
            kind(
                event_id=derived_event_id(kind.verb, checkin_id),
                agency_id=agency_id,
                checkin_id=checkin_id,
                assignment_id=assignment_id,
                supporter_id=supporter_id,
            ),
            source=self.source,
            trace=trace,
        )
