"""Assigning peers as incidents arrive: the roster's use case on the bus.

Incident events come in batches from the kernel's consumer and are applied in stream
order inside the batch's transaction:

- `IncidentReported` and `IncidentUpdated`: every involved officer without an outcome
  for this incident yet is matched (so an update assigns only the officers it adds,
  and an update that arrives first does the report's work), unless the incident
  occurred more than `PEERLINE_ROSTER_MATCH_WITHIN_DAYS` ago: a CAD's history is counted
  by metrics, and nobody is sent to an officer about an incident of last year. Each
  outcome is recorded once per (incident, officer): `PeerAssigned`,
  `AssignmentUnfilled`, or, for an officer who opted out, nothing on the bus at all.
- `IncidentRetracted`: the incident's assignments are released and their supporters'
  loads given back; its unfilled outcomes are released too, so the coordinators' list
  of unfilled assignments holds only those still to fill.

Check-in events come on their own consumer: a `CheckInClosed` that ends the care of an
assignment (`care_ended`) closes it and gives its supporter's slot back. Closing may earn
the supporter care in turn (care for the carers): after a line-of-duty death or a mass
casualty, or once they have closed their agency's `care_for_carers_after` assignments
within 30 days (counted since their last such offer). That offer is matched by the same
rules, with the supporter as the officer and the incident's involved still excluded, and
published as a `PeerAssigned` (reason `care_for_carer`) or `AssignmentUnfilled` of the
supporter's agency, for a care episode whose id derives from the closed assignment.

Matching runs on a `RosterIndex` kept per process and rebuilt when the directories'
revision moves: at start and in the background (`prepare`), so an incident seldom waits
for a rebuild, and before each batch if the revision moved since. Loads are read from
the store before each batch, and a supporter's load is raised by a conditional UPDATE
that holds only below their cap: when another replica took the last slot first, the
index learns the supporter is full and the officer is matched again. How long ago the
index was last brought up to date is `peerline_roster_index_age_seconds`: a figure that
keeps growing means matching decides on an old roster (or cannot read it at all).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from opentelemetry.context import Context
from prometheus_client import Counter, Gauge
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import outbox
from shared.bus import Received
from shared.db import upsert_insert
from shared.events import (
    AssignmentEscalated,
    AssignmentUnfilled,
    CheckInClosed,
    Clock,
    Event,
    IncidentReported,
    IncidentRetracted,
    IncidentUpdated,
    PeerAssigned,
    utcnow,
)
from shared.ids import derived_event_id
from shared.vocab import AssignmentReason, Category, EscalationReason, InvolvedRole

from . import deadlines, revision, store
from .assignment_store import LoadRow, MatchRow, Outcome
from .domain import AgencySettings
from .matching import Assigned, Incident, OptedOut, RosterIndex, Unfilled

log = logging.getLogger(__name__)

OUTCOMES = Counter(
    "peerline_roster_outcomes_total", "Matching outcomes per involved officer", ["outcome"]
)
# Worked out when scraped, from the assigner `subscribers.register` made (one a process).
INDEX_AGE = Gauge(
    "peerline_roster_index_age_seconds",
    "Seconds since the matching index was last brought up to date with the roster "
    "(since the process started, before the first time)",
)

# Who is served first when supporters run short: those closest to the event.
ROLE_ORDER = {
    InvolvedRole.PRIMARY: 0,
    InvolvedRole.SUPERVISOR: 1,
    InvolvedRole.ASSISTING: 2,
    InvolvedRole.INVESTIGATOR: 3,
    InvolvedRole.WITNESS: 4,
    InvolvedRole.DISPATCHER: 5,
}


# Closing an assignment of these categories earns its supporter an offer of care at once.
HEAVY = frozenset({Category.LINE_OF_DUTY_DEATH, Category.MASS_CASUALTY})
CARE_PERIOD = timedelta(days=30)  # the window `care_for_carers_after` counts closings in


def assignment_id_for(incident_id: str, personnel_id: str):
    """One assignment per officer and incident, the same on every replica and replay."""
    return derived_event_id("assignment", incident_id, personnel_id)


@dataclass(frozen=True)
class Case:
    """What an outcome is recorded against: an incident, or a supporter's care episode
    (`cares_for` their supporter_id)."""

    incident_id: uuid.UUID
    agency_id: str
    category: Category | None
    occurred_at: datetime
    cares_for: str | None = None
    for_request: bool = False  # an officer's request (docs/requests.md)


class Assigner:
    """Applies incident events; holds this process's matching index. `clock` is the
    time every decision is taken at (a test's own clock in the unit tier)."""

    def __init__(
        self, source: str, clock: Clock = utcnow, match_within: timedelta = timedelta(days=30)
    ) -> None:
        self.source = source
        self.clock = clock
        self.match_within = match_within  # older incidents are history: counted, not matched
        self._index: RosterIndex | None = None
        self._caps: dict[str, int] = {}  # supporter: max open assignments
        self._settings: dict[str, AgencySettings] = {}
        self._revision = -1
        self._current_at = time.monotonic()  # when `_refresh` last brought the index up
        # One batch at a time uses the index: consumers and the background refresh.
        self._lock = asyncio.Lock()

    def index_age(self) -> float:
        """Seconds since the index was last brought up to date with the committed
        directories (since this assigner was made, before the first time): it grows
        while the refreshes fail, say on a database that does not answer."""
        return time.monotonic() - self._current_at

    async def prepare(self, sessions: async_sessionmaker) -> None:
        """Bring the index up to the committed directories, ahead of the next batch."""
        async with self._lock, sessions() as session:
            await self._refresh(session)

    async def apply(self, session: AsyncSession, items: list[Received[Event]]) -> None:
        async with self._lock:
            await self._apply(session, items)

    @contextlib.asynccontextmanager
    async def matching(self, session: AsyncSession) -> AsyncIterator[RosterIndex]:
        """The index, current with the store, held for one use case (an officer's
        request, an assignment moving on) while it decides and records."""
        async with self._lock:
            await self._refresh(session)
            yield self._index

    async def _apply(self, session: AsyncSession, items: list[Received[Event]]) -> None:
        await self._refresh(session)
        for item in items:
            event = item.value
            if isinstance(event, IncidentRetracted):
                await self._release(session, str(event.incident_id))
            elif isinstance(event, IncidentReported | IncidentUpdated):
                await self._assign(session, event, item.trace)

    async def end_care(self, session: AsyncSession, items: list[Received[CheckInClosed]]) -> None:
        async with self._lock:
            await self._refresh(session)
            for item in items:
                event = item.value
                if event.care_ended and event.assignment_id is not None:
                    await self._close(session, str(event.assignment_id), item.trace)

    async def _refresh(self, session: AsyncSession) -> None:
        """The index as committed: rebuilt if the directories changed, loads re-read."""
        current = await revision.current(session)
        if self._index is None or current != self._revision:
            inputs = await store.load_index_inputs(session)
            self._index = RosterIndex(
                inputs.supporters, inputs.officers, inputs.preferences, inputs.settings.values()
            )
            self._caps = {s.supporter_id: s.max_open_assignments for s in inputs.supporters}
            self._settings = inputs.settings
            self._revision = current
        loads = await session.execute(select(LoadRow.supporter_id, LoadRow.open_assignments))
        current_loads = dict(loads.all())
        for supporter_id in self._caps:
            self._index.set_load(supporter_id, current_loads.get(supporter_id, 0))
        self._current_at = time.monotonic()

    async def _assign(
        self, session: AsyncSession, event: IncidentReported | IncidentUpdated, trace: Context
    ) -> None:
        now = self.clock()
        if event.occurred_at < now - self.match_within:
            return  # a CAD's history, reported long after: metrics count it, nobody is sent
        incident_id = str(event.incident_id)
        done = set(
            await session.scalars(
                select(MatchRow.personnel_id).where(MatchRow.incident_id == incident_id)
            )
        )
        involved = sorted(event.involved, key=lambda i: ROLE_ORDER.get(i.role, 9))
        todo = [i.personnel_id for i in involved if i.personnel_id not in done]
        if not todo:
            return
        incident = Incident(
            incident_id=event.incident_id,
            agency_id=event.agency_id,
            category=event.category,
            occurred_at=event.occurred_at,
            involved=frozenset(i.personnel_id for i in event.involved),
        )
        case = Case(event.incident_id, event.agency_id, event.category, event.occurred_at)
        while todo:
            retry = []
            for result in self._index.assign(incident, todo, now):
                if not await self.record(session, case, result, now, trace):
                    retry.append(result.personnel_id)
            todo = retry

    async def record(self, session, case: Case, result, now: datetime, trace: Context) -> bool:
        """Store one outcome and stage its event; False if the supporter turned out to be
        full (another replica took the slot), so the officer is matched again. An
        assignment gets its acknowledgment deadline (`deadlines`); an officer's request
        that nobody can take goes to the coordinators at once, naming no one."""
        incident_id = str(case.incident_id)
        assignment_id = assignment_id_for(incident_id, result.personnel_id)
        row = {
            "incident_id": incident_id,
            "personnel_id": result.personnel_id,
            "agency_id": case.agency_id,
            "category": case.category,
            "cares_for": case.cares_for,
            "for_request": case.for_request,
            "decided_at": now,
        }
        messages = []
        if isinstance(result, Assigned):
            if not await self.take_slot(session, result.supporter_id):
                return False
            reasons = list(result.reasons)
            if case.cares_for is not None:
                reasons.append(AssignmentReason.CARE_FOR_CARER)
            if case.for_request:
                reasons.append(AssignmentReason.OFFICER_REQUEST)
            settings = self.settings_of(case.agency_id)
            acknowledge_by = now + settings.acknowledge_within(case.for_request)
            row |= {
                "outcome": Outcome.ASSIGNED.value,
                "assignment_id": str(assignment_id),
                "supporter_id": result.supporter_id,
                "supporter_agency_id": result.supporter_agency_id,
                "reasons": [r.value for r in reasons],
                "acknowledge_by": acknowledge_by,
            }
            messages.append(
                deadlines.setting(case.agency_id, str(assignment_id), 0, acknowledge_by, trace)
            )
            staged = PeerAssigned(
                event_id=derived_event_id("peer-assigned", assignment_id),
                agency_id=case.agency_id,
                assignment_id=assignment_id,
                incident_id=case.incident_id,
                personnel_id=result.personnel_id,
                supporter_id=result.supporter_id,
                supporter_agency_id=result.supporter_agency_id,
                reasons=reasons,
                category=case.category,
                incident_occurred_at=case.occurred_at,
                acknowledge_by=acknowledge_by,
            )
        elif isinstance(result, Unfilled) and case.for_request:
            row |= {
                "outcome": Outcome.UNFILLED.value,
                "assignment_id": str(assignment_id),
                "reasons": [result.reason.value],
                "escalated_at": now,
                "escalation": EscalationReason.NO_ONE_LEFT.value,
            }
            staged = escalated(case.agency_id, str(assignment_id), EscalationReason.NO_ONE_LEFT, 0)
        elif isinstance(result, Unfilled):
            row |= {"outcome": Outcome.UNFILLED.value, "reasons": [result.reason.value]}
            staged = AssignmentUnfilled(
                event_id=derived_event_id("unfilled", incident_id, result.personnel_id),
                agency_id=case.agency_id,
                incident_id=case.incident_id,
                personnel_id=result.personnel_id,
                reason=result.reason,
            )
        else:
            assert isinstance(result, OptedOut)
            row |= {"outcome": Outcome.OPTED_OUT.value, "reasons": []}
            staged = None
        session.add(MatchRow(**row))
        if staged is not None:
            await outbox.add_all(session, [(staged, trace)], source=self.source)
        await outbox.add_messages(session, messages)
        OUTCOMES.labels(row["outcome"]).inc()
        return True

    def settings_of(self, agency_id: str) -> AgencySettings:
        return self._settings.get(agency_id) or AgencySettings(agency_id)

    async def take_slot(self, session: AsyncSession, supporter_id: str) -> bool:
        """Raise the supporter's load if it is below their cap; False if it is not (the
        index then learns they are full, so the next match passes them over)."""
        cap = self._caps[supporter_id]
        if await self._take_slot(session, supporter_id, cap):
            return True
        self._index.set_load(supporter_id, cap)
        return False

    async def _take_slot(self, session: AsyncSession, supporter_id: str, cap: int) -> bool:
        await session.execute(
            upsert_insert(session)(LoadRow)
            .values(supporter_id=supporter_id, open_assignments=0)
            .on_conflict_do_nothing(index_elements=["supporter_id"])
        )
        raised = await session.execute(
            update(LoadRow)
            .where(LoadRow.supporter_id == supporter_id, LoadRow.open_assignments < cap)
            .values(open_assignments=LoadRow.open_assignments + 1)
        )
        return raised.rowcount == 1

    async def _release(self, session: AsyncSession, incident_id: str) -> None:
        released = (
            await session.execute(
                update(MatchRow)
                .where(
                    MatchRow.incident_id == incident_id,
                    MatchRow.outcome.in_((Outcome.ASSIGNED.value, Outcome.UNFILLED.value)),
                )
                .values(outcome=Outcome.RELEASED.value, ended_at=self.clock())
                .returning(
                    MatchRow.supporter_id,
                    MatchRow.agency_id,
                    MatchRow.assignment_id,
                    MatchRow.moves,
                    MatchRow.acknowledged_at,
                )
            )
        ).all()
        supporters = [row.supporter_id for row in released if row.supporter_id is not None]
        for supporter_id in supporters:  # an unfilled outcome held no slot
            await self.give_back(session, supporter_id)
        await outbox.add_messages(
            session,
            [
                deadlines.cancelling(row.agency_id, row.assignment_id, row.moves)
                for row in released
                if row.supporter_id is not None and row.acknowledged_at is None
            ],
        )
        if supporters:
            log.info("released %d assignments of a retracted incident", len(supporters))

    async def _close(self, session: AsyncSession, assignment_id: str, trace: Context) -> None:
        """The care of an assignment ended: close it, give the slot back, and see whether
        its supporter has earned care themself. The conditional UPDATE makes this happen
        once, whichever replica or redelivery comes first."""
        now = self.clock()
        closed = (
            await session.execute(
                update(MatchRow)
                .where(
                    MatchRow.assignment_id == assignment_id,
                    MatchRow.outcome == Outcome.ASSIGNED.value,
                )
                .values(outcome=Outcome.CLOSED.value, ended_at=now)
                .returning(
                    MatchRow.supporter_id,
                    MatchRow.incident_id,
                    MatchRow.category,
                    MatchRow.agency_id,
                    MatchRow.moves,
                    MatchRow.acknowledged_at,
                )
            )
        ).first()
        if closed is None:
            return  # closed before, or released by a retraction
        supporter_id, incident_id, category = closed[:3]
        await self.give_back(session, supporter_id)
        if closed.acknowledged_at is None:
            await outbox.add_messages(
                session, [deadlines.cancelling(closed.agency_id, assignment_id, closed.moves)]
            )
        if supporter_id in self._caps and await self._care_earned(
            session, supporter_id, category, now
        ):
            await self._care_for_carer(
                session, supporter_id, assignment_id, incident_id, now, trace
            )

    async def _care_earned(
        self, session: AsyncSession, supporter_id: str, category: str | None, now: datetime
    ) -> bool:
        if category in HEAVY:
            return True
        last_offer = await session.scalar(
            select(func.max(MatchRow.decided_at)).where(MatchRow.cares_for == supporter_id)
        )
        since = max(now - CARE_PERIOD, last_offer) if last_offer else now - CARE_PERIOD
        closings = await session.scalar(
            select(func.count()).where(
                MatchRow.supporter_id == supporter_id,
                MatchRow.outcome == Outcome.CLOSED.value,
                MatchRow.ended_at > since,
            )
        )
        agency_id = self._index.supporter(supporter_id).agency_id
        return closings >= self.settings_of(agency_id).care_for_carers_after

    async def _care_for_carer(
        self,
        session: AsyncSession,
        supporter_id: str,
        assignment_id: str,
        incident_id: str,
        now: datetime,
        trace: Context,
    ) -> None:
        """Match a peer for the supporter, keeping the closed incident's involved out."""
        cause = (
            await session.execute(
                select(MatchRow.agency_id, MatchRow.category, MatchRow.personnel_id).where(
                    MatchRow.incident_id == incident_id, MatchRow.cares_for.is_(None)
                )
            )
        ).all()
        supporter = self._index.supporter(supporter_id)
        incident = None
        if cause:
            incident = Incident(
                incident_id=uuid.UUID(incident_id),
                agency_id=cause[0].agency_id,
                category=Category(cause[0].category) if cause[0].category else None,
                occurred_at=now,
                involved=frozenset(row.personnel_id for row in cause),
            )
        case = Case(
            incident_id=derived_event_id("care-for-carer", assignment_id),
            agency_id=supporter.agency_id,
            category=None,
            occurred_at=now,
            cares_for=supporter_id,
        )
        while not await self.record(
            session, case, self._index.care_for_carer(supporter_id, now, incident), now, trace
        ):
            pass  # the peer chosen was full after all; match again

    async def give_back(self, session: AsyncSession, supporter_id: str) -> None:
        await session.execute(
            update(LoadRow)
            .where(LoadRow.supporter_id == supporter_id, LoadRow.open_assignments > 0)
            .values(open_assignments=LoadRow.open_assignments - 1)
        )
        if supporter_id in self._caps:  # later events of this batch see the slot free
            self._index.set_load(supporter_id, max(self._index.load(supporter_id) - 1, 0))


def escalated(
    agency_id: str, assignment_id: str, reason: EscalationReason, moves: int, for_request=True
) -> AssignmentEscalated:
    """The coordinators' alert for an assignment that will not move again; once per
    escalation (its id derives from the assignment and the moves so far)."""
    return AssignmentEscalated(
        event_id=derived_event_id("escalated", assignment_id, moves),
        agency_id=agency_id,
        assignment_id=assignment_id,
        reason=reason,
        moves=moves,
        for_request=for_request,
    )
