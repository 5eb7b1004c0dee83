"""Assigning peers as incidents arrive: the roster's use case on the bus.

Incident events come in batches from the kernel's consumer and are applied in stream
order inside the batch's transaction:

- `IncidentReported` and `IncidentUpdated`: every involved officer without an outcome
  for this incident yet is matched (so an update assigns only the officers it adds,
  and an update that arrives first does the report's work). Each outcome is recorded
  once per (incident, officer): `PeerAssigned`, `AssignmentUnfilled`, or, for an
  officer who opted out, nothing on the bus at all.
- `IncidentRetracted`: the incident's assignments are released and their supporters'
  loads given back.

Matching runs on a `RosterIndex` kept per process and rebuilt when the directories'
revision moves. Loads are read from the store before each batch, and a supporter's load
is raised by a conditional UPDATE that holds only below their cap: when another replica
took the last slot first, the index learns the supporter is full and the officer is
matched again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from opentelemetry.context import Context
from prometheus_client import Counter
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.bus import Received
from shared.db import upsert_insert
from shared.events import (
    AssignmentUnfilled,
    Event,
    IncidentReported,
    IncidentRetracted,
    IncidentUpdated,
    PeerAssigned,
)
from shared.ids import derived_event_id
from shared.vocab import InvolvedRole

from . import revision, store
from .assignment_store import LoadRow, MatchRow, Outcome
from .matching import Assigned, Incident, OptedOut, RosterIndex, Unfilled

log = logging.getLogger(__name__)

OUTCOMES = Counter(
    "peerline_roster_outcomes_total", "Matching outcomes per involved officer", ["outcome"]
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


def assignment_id_for(incident_id: str, personnel_id: str):
    """One assignment per officer and incident, the same on every replica and replay."""
    return derived_event_id("assignment", incident_id, personnel_id)


class Assigner:
    """Applies incident events; holds this process's matching index."""

    def __init__(self, source: str) -> None:
        self._source = source
        self._index: RosterIndex | None = None
        self._caps: dict[str, int] = {}  # supporter: max open assignments
        self._revision = -1

    async def apply(self, session: AsyncSession, items: list[Received[Event]]) -> None:
        await self._refresh(session)
        for item in items:
            event = item.value
            if isinstance(event, IncidentRetracted):
                await self._release(session, str(event.incident_id))
            elif isinstance(event, IncidentReported | IncidentUpdated):
                await self._assign(session, event, item.trace)

    async def _refresh(self, session: AsyncSession) -> None:
        """The index as committed: rebuilt if the directories changed, loads re-read."""
        current = await revision.current(session)
        if self._index is None or current != self._revision:
            inputs = await store.load_index_inputs(session)
            self._index = RosterIndex(
                inputs.supporters, inputs.officers, inputs.preferences, inputs.settings.values()
            )
            self._caps = {s.supporter_id: s.max_open_assignments for s in inputs.supporters}
            self._revision = current
        loads = await session.execute(select(LoadRow.supporter_id, LoadRow.open_assignments))
        current_loads = dict(loads.all())
        for supporter_id in self._caps:
            self._index.set_load(supporter_id, current_loads.get(supporter_id, 0))

    async def _assign(
        self, session: AsyncSession, event: IncidentReported | IncidentUpdated, trace: Context
    ) -> None:
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
        now = datetime.now(UTC)
        while todo:
            retry = []
            for result in self._index.assign(incident, todo, now):
                if not await self._record(session, event, result, now, trace):
                    retry.append(result.personnel_id)
            todo = retry

    async def _record(self, session, event, result, now: datetime, trace: Context) -> bool:
        """Store one outcome and stage its event; False if the supporter turned out to be
        full (another replica took the slot), so the officer is matched again."""
        incident_id = str(event.incident_id)
        row = {
            "incident_id": incident_id,
            "personnel_id": result.personnel_id,
            "agency_id": event.agency_id,
            "decided_at": now,
        }
        if isinstance(result, Assigned):
            cap = self._caps[result.supporter_id]
            if not await self._take_slot(session, result.supporter_id, cap):
                self._index.set_load(result.supporter_id, cap)
                return False
            assignment_id = assignment_id_for(incident_id, result.personnel_id)
            row |= {
                "outcome": Outcome.ASSIGNED.value,
                "assignment_id": str(assignment_id),
                "supporter_id": result.supporter_id,
                "supporter_agency_id": result.supporter_agency_id,
                "reasons": [r.value for r in result.reasons],
            }
            staged = PeerAssigned(
                event_id=derived_event_id("peer-assigned", assignment_id),
                agency_id=event.agency_id,
                assignment_id=assignment_id,
                incident_id=event.incident_id,
                personnel_id=result.personnel_id,
                supporter_id=result.supporter_id,
                supporter_agency_id=result.supporter_agency_id,
                reasons=list(result.reasons),
            )
        elif isinstance(result, Unfilled):
            row |= {"outcome": Outcome.UNFILLED.value, "reasons": [result.reason.value]}
            staged = AssignmentUnfilled(
                event_id=derived_event_id("unfilled", incident_id, result.personnel_id),
                agency_id=event.agency_id,
                incident_id=event.incident_id,
                personnel_id=result.personnel_id,
                reason=result.reason,
            )
        else:
            assert isinstance(result, OptedOut)
            row |= {"outcome": Outcome.OPTED_OUT.value, "reasons": []}
            staged = None
        session.add(MatchRow(**row))
        if staged is not None:
            await outbox.add_all(session, [(staged, trace)], source=self._source)
        OUTCOMES.labels(row["outcome"]).inc()
        return True

    async def _take_slot(self, session: AsyncSession, supporter_id: str, cap: int) -> bool:
        """Raise the supporter's load if it is below `cap`; False if it is not."""
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
        now = datetime.now(UTC)
        released = (
            await session.scalars(
                update(MatchRow)
                .where(
                    MatchRow.incident_id == incident_id,
                    MatchRow.outcome == Outcome.ASSIGNED.value,
                )
                .values(outcome=Outcome.RELEASED.value, ended_at=now)
                .returning(MatchRow.supporter_id)
            )
        ).all()
        for supporter_id in released:
            await session.execute(
                update(LoadRow)
                .where(LoadRow.supporter_id == supporter_id, LoadRow.open_assignments > 0)
                .values(open_assignments=LoadRow.open_assignments - 1)
            )
            if supporter_id in self._caps:  # later events of this batch see the slot free
                self._index.set_load(supporter_id, max(self._index.load(supporter_id) - 1, 0))
        if released:
            log.info("released %d assignments of a retracted incident", len(released))
