"""The intake use case, shared by HTTP and NATS: categorise, decide, store, stage events.

`apply_reports` applies a batch of reports in order inside one transaction (incident
rows and their events in the outbox), each report seeing the ones before it. Reports
over NATS arrive in batches already (the bus consumer's, with its inbox marks); reports
over HTTP are gathered by one `IntakeWriter` per process with group commit: whatever
requests are waiting are applied together and answered after the commit. One fsync
then serves many reports. Replicas racing on one incident (PostgreSQL) are settled by
the primary key and a version check: the batch is rolled back and each report retried
alone, when it sees the winner's row.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from opentelemetry import context as otel_context
from opentelemetry.context import Context
from prometheus_client import Counter, Histogram
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.errors import NotFound
from shared.events import (
    Event,
    IncidentReported,
    IncidentRetracted,
    IncidentUpdated,
    Involved,
)
from shared.ids import incident_id_for
from shared.service import ServiceRuntime
from shared.vocab import Category, RetractionReason

from .categories import categorise
from .domain import Current, IncidentReport, Status, decide
from .store import IncidentRow, SourceTypeRow

REPORTS = Counter(
    "peerline_intake_reports_total", "Incident reports by path and outcome", ["via", "status"]
)
BATCH = Histogram(
    "peerline_intake_batch_size",
    "Reports per intake transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
MAX_BATCH = 256
RETRIES = 8


class StaleIncident(Exception):
    """Another writer changed the incident between our read and our write."""


@dataclass(frozen=True)
class IntakeResult:
    incident_id: uuid.UUID
    status: Status


@dataclass(frozen=True)
class Report:
    """One report to apply: whose, what, by which path, and the trace it belongs to."""

    agency_id: str
    report: IncidentReport
    via: str
    trace: Context = field(default_factory=otel_context.get_current, repr=False)

    @property
    def incident_id(self) -> uuid.UUID:
        return incident_id_for(self.agency_id, self.report.external_id)


@dataclass
class _Pending:
    """A report waiting in the `IntakeWriter`'s queue, and the caller waiting for it."""

    report: Report
    future: asyncio.Future = field(repr=False)


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


class _Batch:
    """The reports of one transaction applied in order, each seeing the ones before it."""

    def __init__(self, stored: list[IncidentRow], source: str) -> None:
        self.source = source
        self.now = datetime.now(UTC)
        self.known = {r.incident_id: _Known(r.current(), r.occurred_at, r.version) for r in stored}
        self.new_rows: dict[str, dict] = {}
        self.events: list[tuple[Event, Context]] = []

    def accept(self, p: Report, category: Category, involved: tuple[Involved, ...]) -> None:
        key, report = str(p.incident_id), p.report
        self.known[key] = _Known(Current(category, involved, False), report.occurred_at, None)
        self.new_rows[key] = {
            "incident_id": key,
            "agency_id": p.agency_id,
            "external_id": report.external_id,
            "category": category.value,
            "occurred_at": report.occurred_at,
            "involved": _involved_json(involved),
            "version": 1,
            "reported_at": self.now,
            "updated_at": self.now,
        }
        event = IncidentReported(
            agency_id=p.agency_id,
            occurred_at=report.occurred_at,
            incident_id=p.incident_id,
            external_id=report.external_id,
            category=category,
            involved=list(involved),
        )
        self.events.append((event, p.trace))

    def update(self, p: Report, category: Category, involved: tuple[Involved, ...]) -> None:
        key = str(p.incident_id)
        entry = self.known[key]
        entry.current = Current(category, involved, False)
        if key in self.new_rows:  # reported earlier in this very batch: insert the latest
            self.new_rows[key].update(category=category.value, involved=_involved_json(involved))
        else:
            entry.dirty = True
        event = IncidentUpdated(
            agency_id=p.agency_id,
            occurred_at=entry.occurred_at,
            incident_id=p.incident_id,
            category=category,
            involved=list(involved),
        )
        self.events.append((event, p.trace))

    async def write(self, session: AsyncSession) -> None:
        """Insert new incidents, update changed ones (if nobody else did), stage events."""
        if self.new_rows:
            await session.execute(insert(IncidentRow.__table__), list(self.new_rows.values()))
        for key, entry in self.known.items():
            if not entry.dirty:
                continue
            changed = await session.execute(
                update(IncidentRow)
                .where(IncidentRow.incident_id == key, IncidentRow.version == entry.version)
                .values(
                    category=entry.current.category.value,
                    involved=_involved_json(entry.current.involved),
                    version=entry.version + 1,
                    updated_at=self.now,
                )
            )
            if changed.rowcount != 1:
                raise StaleIncident
        await outbox.add_all(session, self.events, source=self.source)


async def apply_reports(
    session: AsyncSession, reports: list[Report], source: str
) -> list[IntakeResult]:
    """Apply `reports` in order inside `session`; the result of each."""
    ids = {str(p.incident_id) for p in reports}
    stored = await session.scalars(select(IncidentRow).where(IncidentRow.incident_id.in_(ids)))
    applied = _Batch(list(stored), source)
    needs_mapping = {p.agency_id for p in reports if p.report.category is None}
    overrides = await _overrides(session, needs_mapping) if needs_mapping else {}
    results: list[IntakeResult] = []
    for p in reports:
        category = p.report.category or categorise(
            p.report.source_type or "", overrides.get(p.agency_id, {})
        )
        entry = applied.known.get(str(p.incident_id))
        decision = decide(entry.current if entry else None, category, p.report)
        if decision.status is Status.ACCEPTED:
            applied.accept(p, decision.category, decision.involved)
        elif decision.status is Status.UPDATED:
            applied.update(p, decision.category, decision.involved)
        results.append(IntakeResult(p.incident_id, decision.status))
    await applied.write(session)
    return results


def count(via: str, results: list[IntakeResult]) -> None:
    for result in results:
        REPORTS.labels(via, result.status.value).inc()


def _succeed(pending: _Pending, result: IntakeResult) -> None:
    count(pending.report.via, [result])
    if not pending.future.done():
        pending.future.set_result(result)


def _fail(pending: _Pending, exc: BaseException) -> None:
    if not pending.future.done():
        pending.future.set_exception(exc)


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

    async def submit(self, agency_id: str, report: IncidentReport) -> IntakeResult:
        """Apply an HTTP report; returns once it is durable."""
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(Report(agency_id, report, "http"), future))
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
            for pending in batch:  # a race with another replica: settle one by one
                await self._retry_alone(pending)
            return
        except Exception as exc:
            for pending in batch:
                _fail(pending, exc)
            return
        BATCH.observe(len(batch))
        for pending, result in zip(batch, results, strict=True):
            _succeed(pending, result)

    async def _retry_alone(self, pending: _Pending) -> None:
        """Apply one report after losing a race; back off a little between tries so
        that competing replicas interleave instead of colliding again."""
        for attempt in range(RETRIES):
            try:
                [result] = await self._transaction([pending])
            except (IntegrityError, StaleIncident) as exc:
                if attempt == RETRIES - 1:
                    _fail(pending, exc)
                    return
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
                continue
            except Exception as exc:
                _fail(pending, exc)
                return
            _succeed(pending, result)
            return

    async def _transaction(self, batch: list[_Pending]) -> list[IntakeResult]:
        async with self._runtime.sessions() as session:
            results = await apply_reports(session, [p.report for p in batch], self._runtime.source)
            await session.commit()
        return results


async def incident(session: AsyncSession, incident_id: uuid.UUID) -> IncidentRow:
    """The stored incident; `NotFound` if no incident has this id."""
    row = await session.get(IncidentRow, str(incident_id))
    if row is None:
        raise NotFound("No incident has this id.")
    return row


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
        await session.commit()
        return True
