"""The intake use case, shared by HTTP and NATS: categorise, decide, store, stage events.

Reports are written by one `IntakeWriter` per process with group commit: whatever
reports are waiting are applied together in one transaction (incident rows, their
events in the outbox, inbox marks for bus deliveries) and acknowledged after it
commits. One fsync then serves many reports, and SQLite never sees two writers from
this process. Replicas racing on one incident (PostgreSQL) are settled by the primary
key and a version check: the batch is rolled back and each report retried alone, when
it sees the winner's row.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from prometheus_client import Counter, Histogram
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import inbox, outbox
from shared.events import (
    Event,
    FieldError,
    IncidentReported,
    IncidentRetracted,
    IncidentUpdated,
    IntakeRejected,
    Involved,
)
from shared.ids import incident_id_for
from shared.service import ServiceRuntime
from shared.vocab import Category, RetractionReason

from .categories import categorise
from .domain import Current, IncidentReport, Status, decide
from .store import IncidentRow, SourceTypeRow

log = logging.getLogger(__name__)

REPORTS = Counter(
    "peerline_intake_reports_total", "Incident reports by path and outcome", ["via", "status"]
)
BATCH = Histogram(
    "peerline_intake_batch_size",
    "Reports per intake transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
MAX_BATCH = 256
RETRIES = 3


class StaleIncident(Exception):
    """Another writer changed the incident between our read and our write."""


@dataclass(frozen=True)
class IntakeResult:
    incident_id: uuid.UUID
    status: Status


@dataclass
class _Pending:
    agency_id: str
    report: IncidentReport
    via: str
    inbox_key: str | None
    future: asyncio.Future = field(repr=False)
    trace: Context = field(default_factory=otel_context.get_current, repr=False)

    @property
    def incident_id(self) -> uuid.UUID:
        return incident_id_for(self.agency_id, self.report.external_id)


@dataclass
class _Known:
    """An incident as the batch sees it: stored state plus this batch's changes."""

    current: Current
    occurred_at: datetime
    version: int | None  # stored version; None if inserted by this batch
    dirty: bool = False  # a stored incident this batch changed


async def agency_overrides(session: AsyncSession, agency_id: str) -> dict[str, Category | None]:
    return (await _overrides(session, {agency_id})).get(agency_id, {})


async def _overrides(
    session: AsyncSession, agencies: set[str]
) -> dict[str, dict[str, Category | None]]:
    rows = await session.execute(
        select(SourceTypeRow.agency_id, SourceTypeRow.code, SourceTypeRow.category).where(
            SourceTypeRow.agency_id.in_(agencies)
        )
    )
    found: dict[str, dict[str, Category | None]] = {}
    for agency, code, category in rows:
        found.setdefault(agency, {})[code] = Category(category) if category else None
    return found


def _involved_json(involved: tuple[Involved, ...]) -> list[dict]:
    return [{"personnel_id": i.personnel_id, "role": i.role.value} for i in involved]


async def _apply(
    session: AsyncSession, batch: list[_Pending], source: str
) -> tuple[list[IntakeResult], list[tuple[Event, Context]]]:
    """Apply `batch` in order inside `session`; returns each result and the events."""
    ids = {str(p.incident_id) for p in batch}
    stored = await session.execute(select(IncidentRow).where(IncidentRow.incident_id.in_(ids)))
    known = {
        row.incident_id: _Known(row.current(), row.occurred_at, row.version)
        for row in stored.scalars()
    }
    needs_mapping = {p.agency_id for p in batch if p.report.category is None}
    overrides = await _overrides(session, needs_mapping) if needs_mapping else {}
    now = datetime.now(UTC)
    new_rows: dict[str, dict] = {}
    events: list[tuple[Event, Context]] = []
    results: list[IntakeResult] = []
    for p in batch:
        incident_id = p.incident_id
        key = str(incident_id)
        if p.inbox_key and not await inbox.first_time(session, "intake", p.inbox_key):
            results.append(IntakeResult(incident_id, Status.DUPLICATE))
            continue
        report = p.report
        category = report.category or categorise(
            report.source_type or "", overrides.get(p.agency_id, {})
        )
        entry = known.get(key)
        decision = decide(entry.current if entry else None, category, report)
        results.append(IntakeResult(incident_id, decision.status))
        if decision.status is Status.ACCEPTED:
            current = Current(decision.category, decision.involved, retracted=False)
            known[key] = _Known(current, report.occurred_at, version=None)
            new_rows[key] = {
                "incident_id": key,
                "agency_id": p.agency_id,
                "external_id": report.external_id,
                "category": decision.category.value,
                "occurred_at": report.occurred_at,
                "involved": _involved_json(decision.involved),
                "version": 1,
                "reported_at": now,
                "updated_at": now,
            }

            events.append(
                (
                    IncidentReported(
                        agency_id=p.agency_id,
                        occurred_at=report.occurred_at,
                        incident_id=incident_id,
                        external_id=report.external_id,
                        category=decision.category,
                        involved=list(decision.involved),
                    ),
                    p.trace,
                )
            )
        elif decision.status is Status.UPDATED:
            entry.current = Current(decision.category, decision.involved, retracted=False)
            if key in new_rows:  # reported earlier in this very batch: insert the latest
                new_rows[key]["category"] = decision.category.value
                new_rows[key]["involved"] = _involved_json(decision.involved)
            else:
                entry.dirty = True
            events.append(
                (
                    IncidentUpdated(
                        agency_id=p.agency_id,
                        occurred_at=entry.occurred_at,
                        incident_id=incident_id,
                        category=decision.category,
                        involved=list(decision.involved),
                    ),
                    p.trace,
                )
            )
    if new_rows:
        await session.execute(insert(IncidentRow), list(new_rows.values()))
    for key, entry in known.items():
        if not entry.dirty:
            continue
        changed = await session.execute(
            update(IncidentRow)
            .where(IncidentRow.incident_id == key, IncidentRow.version == entry.version)
            .values(
                category=entry.current.category.value,
                involved=_involved_json(entry.current.involved),
                version=entry.version + 1,
                updated_at=now,
            )
        )
        if changed.rowcount != 1:
            raise StaleIncident
    await outbox.add_all(session, events, source=source)
    return results, events


class IntakeWriter:
    """Applies reports with group commit; `submit` returns once the report is durable."""

    def __init__(self, runtime: ServiceRuntime, max_batch: int = MAX_BATCH) -> None:
        self._runtime = runtime
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="intake-writer")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(ConnectionError("intake is shutting down"))

    async def submit(
        self, agency_id: str, report: IncidentReport, *, via: str, inbox_key: str | None = None
    ) -> IntakeResult:
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(agency_id, report, via, inbox_key, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._write(batch)

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            results = await self._transaction(batch)
        except (IntegrityError, StaleIncident):
            if len(batch) == 1:
                await self._retry_alone(batch[0])
                return
            for pending in batch:  # a race with another replica: settle one by one
                await self._retry_alone(pending)
            return
        except Exception as exc:
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(exc)
            return
        BATCH.observe(len(batch))
        for pending, result in zip(batch, results, strict=True):
            REPORTS.labels(pending.via, result.status.value).inc()
            if not pending.future.done():
                pending.future.set_result(result)

    async def _retry_alone(self, pending: _Pending) -> None:
        for attempt in range(RETRIES):
            try:
                [result] = await self._transaction([pending])
            except (IntegrityError, StaleIncident) as exc:
                if attempt == RETRIES - 1 and not pending.future.done():
                    pending.future.set_exception(exc)
                continue
            except Exception as exc:
                if not pending.future.done():
                    pending.future.set_exception(exc)
                return
            REPORTS.labels(pending.via, result.status.value).inc()
            if not pending.future.done():
                pending.future.set_result(result)
            return

    async def _transaction(self, batch: list[_Pending]) -> list[IntakeResult]:
        async with self._runtime.sessions() as session:
            results, _ = await _apply(session, batch, self._runtime.source)
            await self._runtime.commit(session)
        return results


async def reject(
    runtime: ServiceRuntime,
    agency_id: str,
    external_id: str | None,
    errors: list[dict],
    *,
    inbox_key: str,
) -> None:
    """Publish `IntakeRejected` for a bus report that failed validation; store nothing else."""
    async with runtime.sessions() as session:
        if not await inbox.first_time(session, "intake", inbox_key):
            return
        outbox.add(
            session,
            IntakeRejected(
                event_id=uuid.UUID(inbox_key),
                agency_id=agency_id,
                external_id=external_id,
                errors=[FieldError(loc=e["loc"], msg=e["msg"]) for e in errors],
            ),
            source=runtime.source,
        )
        await runtime.commit(session)
    REPORTS.labels("nats", "rejected").inc()


async def retract(runtime: ServiceRuntime, incident: IncidentRow, reason: RetractionReason) -> bool:
    """Mark an incident entered in error; True if this call retracted it."""
    async with runtime.sessions() as session:
        changed = await session.execute(
            update(IncidentRow)
            .where(
                IncidentRow.incident_id == incident.incident_id,
                IncidentRow.retraction_reason.is_(None),
            )
            .values(
                retraction_reason=reason.value,
                version=IncidentRow.version + 1,
                updated_at=datetime.now(UTC),
            )
        )
        if changed.rowcount != 1:
            return False
        outbox.add(
            session,
            IncidentRetracted(
                agency_id=incident.agency_id,
                occurred_at=datetime.now(UTC),
                incident_id=uuid.UUID(incident.incident_id),
                reason=reason,
            ),
            source=runtime.source,
        )
        await runtime.commit(session)
        return True
