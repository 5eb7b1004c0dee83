"""Check-ins on the bus: an assignment's offers, from planned to closed.

- `PeerAssigned` opens the assignment and plans its first offer: `CheckInScheduled`
  and the offer's timers (`timers`). An officer's request (`officer_request` among its
  reasons; its `incident_id` is the request's id) is planned by
  `domain.request_policy`: its first offer is due at once.
- A fired timer moves the offer on, after re-reading its state: `due` prompts the
  supporter (`CheckInDue`), `close` tells the coordinator the window passed
  (`CheckInOverdue`), `expire` closes it as `expired`. A timer for an offer that is no
  longer in the state it expects does nothing.
- `IncidentRetracted` closes the incident's open offers as `cancelled`, and
  `SupportRequestResolved` `cancelled` (the officer withdrew the request) the request's;
  `taken` changes nothing.
- `AssignmentReassigned` gives the assignment and its open offers to the new supporter:
  `GET /v1/assignments` lists it for them and no longer for the previous one, and the
  offers' later `CheckInDue` and `CheckInOverdue` name them. Closed offers keep who had
  them. Nothing is published: notify tells the new supporter of the move itself.

Closing an offer (here, or by a contact: `contacts`) cancels its timers and plans the
next offer unless the officer declined or the incident was retracted. `CheckInClosed`
says whether the care of the assignment has ended (`care_ended`: no further regular
offer), so the roster gives the supporter's slot back.

Every state change is a conditional UPDATE from the state it expects, so redeliveries,
late timers and a contact racing a timer (or another replica) change it once. What a
call decides is staged in the outbox together at its end (`_Staged`): a batch of 256
assignments is a few statements, not a thousand (`bench/timers.py`).

A move or a withdrawal heard before its assignment. Reassignments and withdrawals come
on durables of their own (`checkins-reassignments`, `checkins-requests`), so either may
be applied before the `PeerAssigned` it follows. Retrying it until the assignment
arrives would not do: a consumer's retries are few and seconds apart before the
message is dead-lettered (`shared.bus`), and a request withdrawn before anyone was
assigned has no assignment to wait for. Each is recorded instead, and `PeerAssigned`
reads the record, so the end is the same whichever came first:

- moves in `assignment_moves` by assignment id, the highest `move` winning. A move
  changes the assignment only if it is the latest heard: that, not "its supporter is
  still the previous one", is the condition, because replicas sharing the durable may
  apply two moves of one assignment out of order, and the latest must stand. A
  redelivered or replayed move is not newer, and changes nothing. An assignment opens
  with the supporter of its latest move.
- withdrawals in `officer_requests` by request id. The assignment of a withdrawn
  request opens, and its first offer is closed as `cancelled` at once: the events a
  withdrawal after it would have caused.

`PeerAssigned` writes the same rows (move 0, and its request not withdrawn) with ON
CONFLICT DO NOTHING before it reads them, so two replicas applying a move (or a
withdrawal) and its assignment at once wait for each other on the row's key, and the
second sees what the first committed. Closing an offer re-reads its assignment, so the
next offer goes to the supporter a move just committed; one planned before the move
commits is an open offer the move then gives on.
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
from shared.db import upsert_insert
from shared.events import (
    AssignmentReassigned,
    CheckInClosed,
    CheckInDue,
    CheckInOverdue,
    CheckInScheduled,
    Clock,
    Event,
    IncidentRetracted,
    PeerAssigned,
    SupportRequestResolved,
    utcnow,
)
from shared.ids import derived_event_id
from shared.vocab import AssignmentReason, Category, CheckInOutcome, RequestOutcome

from . import timers
from .domain import OPEN, Plan, Policy, Status, ends_offers, request_policy
from .policies import policy_for
from .store import AssignmentRow, CheckInRow, MoveRow, RequestRow
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
        new = {}  # the first event of each assignment not known yet
        for item in items:
            new.setdefault(str(item.value.assignment_id), item.value)
        for assignment_id in known:
            new.pop(assignment_id, None)
        moved = await self._moves_heard(session, list(new.values()), now)
        withdrawn = await self._withdrawals_heard(session, list(new.values()), now)
        cancelled: list[tuple[AssignmentRow, Context]] = []
        with session.no_autoflush:
            for item in items:
                event = item.value
                assignment_id = str(event.assignment_id)
                if assignment_id in known:
                    continue  # the same assignment again (a replay under a new event id)
                known.add(assignment_id)
                supporter_id, supporter_agency_id = moved.get(
                    assignment_id, (event.supporter_id, event.supporter_agency_id)
                )
                assignment = AssignmentRow(
                    assignment_id=assignment_id,
                    agency_id=event.agency_id,
                    incident_id=str(event.incident_id),
                    personnel_id=event.personnel_id,
                    supporter_id=supporter_id,
                    supporter_agency_id=supporter_agency_id,
                    category=event.category,
                    incident_occurred_at=event.incident_occurred_at or event.occurred_at,
                    assigned_at=now,
                    care_for_carer=AssignmentReason.CARE_FOR_CARER in event.reasons,
                    for_request=AssignmentReason.OFFICER_REQUEST in event.reasons,
                    last_activity_at=now,
                )
                session.add(assignment)
                plan = await self._plan_of(session, assignment, staged)
                self._schedule(session, assignment, plan, 1, now, item.trace, staged)
                if assignment.for_request and assignment.incident_id in withdrawn:
                    cancelled.append((assignment, item.trace))
        for assignment, trace in cancelled:  # withdrawn before it was heard of
            await self._cancel(
                session, assignment.agency_id, assignment.incident_id, now, trace, staged
            )
        await staged.write(session, self.source)

    async def reassigned(
        self, session: AsyncSession, items: list[Received[AssignmentReassigned]]
    ) -> None:
        now = self.clock()
        insert = upsert_insert(session)
        for item in items:
            event = item.value
            assignment_id = str(event.assignment_id)
            heard = insert(MoveRow).values(
                assignment_id=assignment_id,
                agency_id=event.agency_id,
                move=event.move,
                supporter_id=event.supporter_id,
                supporter_agency_id=event.supporter_agency_id,
                heard_at=now,
            )
            latest = heard.on_conflict_do_update(
                index_elements=[MoveRow.assignment_id],
                set_={
                    name: heard.excluded[name]
                    for name in ("move", "supporter_id", "supporter_agency_id", "heard_at")
                },
                where=(MoveRow.move < heard.excluded.move)
                & (MoveRow.agency_id == heard.excluded.agency_id),
            ).returning(MoveRow.assignment_id)
            if (await session.execute(latest)).first() is None:
                continue  # this move or a later one was heard before: nothing changes
            # The assignment, then its open offers. A close racing this plans the next
            # offer from the assignment it reads afresh (`_close`): once this commits,
            # for the new supporter; before, as an open offer the UPDATE below then
            # sees and moves (or, each holding the other's row, the database aborts
            # one of the two and it is applied again).
            await session.execute(
                update(AssignmentRow)
                .where(
                    AssignmentRow.assignment_id == assignment_id,
                    AssignmentRow.agency_id == event.agency_id,
                )
                .values(
                    supporter_id=event.supporter_id,
                    supporter_agency_id=event.supporter_agency_id,
                )
                .execution_options(synchronize_session=False)
            )
            await session.execute(
                update(CheckInRow)
                .where(
                    CheckInRow.assignment_id == assignment_id,
                    CheckInRow.agency_id == event.agency_id,
                    CheckInRow.status.in_(OPEN),
                )
                .values(supporter_id=event.supporter_id)
                .execution_options(synchronize_session=False)
            )
            # Not known yet: `assigned` opens it with this supporter.

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
            event = item.value
            await self._cancel(
                session, event.agency_id, str(event.incident_id), now, item.trace, staged
            )
        await staged.write(session, self.source)

    async def resolved(
        self, session: AsyncSession, items: list[Received[SupportRequestResolved]]
    ) -> None:
        """A withdrawn request's offers are cancelled as a retracted incident's; a taken
        one's care goes on."""
        now = self.clock()
        staged = _Staged()
        withdrawn = [i for i in items if i.value.outcome is RequestOutcome.CANCELLED]
        rows = {
            str(i.value.request_id): {
                "request_id": str(i.value.request_id),
                "agency_id": i.value.agency_id,
                "withdrawn": True,
                "heard_at": now,
            }
            for i in withdrawn
        }
        if rows:
            insert = upsert_insert(session)(RequestRow)
            await session.execute(
                insert.on_conflict_do_update(
                    index_elements=[RequestRow.request_id],
                    set_={"withdrawn": True},
                    where=RequestRow.agency_id == insert.excluded.agency_id,
                ),
                list(rows.values()),
            )
        for item in withdrawn:
            event = item.value
            await self._cancel(
                session, event.agency_id, str(event.request_id), now, item.trace, staged
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

    async def _moves_heard(
        self, session: AsyncSession, events: list[PeerAssigned], now: datetime
    ) -> dict[str, tuple[str, str]]:
        """Record each assignment as move 0 unless a move of it was heard before; the
        supporter (and their agency) of those whose move was."""
        if not events:
            return {}
        agency_of = {str(e.assignment_id): e.agency_id for e in events}
        rows = [
            {
                "assignment_id": str(e.assignment_id),
                "agency_id": e.agency_id,
                "move": 0,
                "supporter_id": e.supporter_id,
                "supporter_agency_id": e.supporter_agency_id,
                "heard_at": now,
            }
            for e in events
        ]
        insert = upsert_insert(session)(MoveRow)
        await session.execute(insert.on_conflict_do_nothing(index_elements=["assignment_id"]), rows)
        heard = await session.execute(
            select(
                MoveRow.assignment_id,
                MoveRow.agency_id,
                MoveRow.supporter_id,
                MoveRow.supporter_agency_id,
            ).where(MoveRow.assignment_id.in_(agency_of), MoveRow.move > 0)
        )
        return {
            assignment_id: (supporter_id, supporter_agency_id)
            for assignment_id, agency_id, supporter_id, supporter_agency_id in heard
            if agency_of[assignment_id] == agency_id
        }

    async def _withdrawals_heard(
        self, session: AsyncSession, events: list[PeerAssigned], now: datetime
    ) -> set[str]:
        """Record the request of each assignment for one; the ids of those withdrawn
        before."""
        agency_of = {
            str(e.incident_id): e.agency_id
            for e in events
            if AssignmentReason.OFFICER_REQUEST in e.reasons
        }
        if not agency_of:
            return set()
        rows = [
            {"request_id": r, "agency_id": a, "withdrawn": False, "heard_at": now}
            for r, a in agency_of.items()
        ]
        insert = upsert_insert(session)(RequestRow)
        await session.execute(insert.on_conflict_do_nothing(index_elements=["request_id"]), rows)
        withdrawn = await session.execute(
            select(RequestRow.request_id, RequestRow.agency_id).where(
                RequestRow.request_id.in_(agency_of), RequestRow.withdrawn.is_(True)
            )
        )
        return {r for r, agency_id in withdrawn if agency_of[r] == agency_id}

    async def _cancel(
        self,
        session: AsyncSession,
        agency_id: str,
        incident_id: str,
        now: datetime,
        trace: Context | None,
        staged: _Staged,
    ) -> None:
        """Close the open offers of the incident's assignments (or the request's: its id
        is their incident id) as `cancelled`, which ends their care."""
        open_checkins = await session.scalars(
            select(CheckInRow.checkin_id)
            .join(AssignmentRow, AssignmentRow.assignment_id == CheckInRow.assignment_id)
            .where(
                AssignmentRow.incident_id == incident_id,
                AssignmentRow.agency_id == agency_id,
                CheckInRow.status.in_(OPEN),
            )
        )
        for checkin_id in open_checkins.all():
            await self._close(session, checkin_id, CheckInOutcome.CANCELLED, now, trace, staged)

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
        # Read again, not from the session: a move may have committed since it was read.
        assignment = await session.get(AssignmentRow, assignment_id, populate_existing=True)
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
            contacted_at = now if outcome is CheckInOutcome.CONTACTED else None
            self._schedule(
                session, assignment, plan, sequence + 1, now, trace, staged, contacted_at
            )
        return True

    async def _plan_of(
        self, session: AsyncSession, assignment: AssignmentRow, staged: _Staged
    ) -> Plan:
        """The assignment's offers under its agency's policy, read once per call."""
        key = (assignment.agency_id, assignment.category)
        if key not in staged.policies:
            category = Category(assignment.category) if assignment.category else None
            staged.policies[key] = await policy_for(session, assignment.agency_id, category)
        policy = staged.policies[key]
        if assignment.for_request:
            policy = request_policy(policy)
        return Plan(policy, assignment.incident_occurred_at)

    def _schedule(
        self,
        session: AsyncSession,
        assignment: AssignmentRow,
        plan: Plan,
        sequence: int,
        now: datetime,
        trace: Context | None,
        staged: _Staged,
        contacted_at: datetime | None = None,
    ) -> None:
        """Schedule offer `sequence` of the assignment, with its timers; `contacted_at`,
        the contact that closed the offer before it (the follow-up keeps its gap)."""
        offer = plan.offer(sequence, now, contacted_at)
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
