"""The intake use case, shared by HTTP and NATS: categorise, decide, store, stage events.

Everything a report changes (the incident row and its events in the outbox, plus the
inbox mark for bus deliveries) is one transaction. Two replicas racing on one incident
are settled by the primary key and a version check: the loser retries and sees the
winner's row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import Counter
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared import inbox, outbox
from shared.events import (
    FieldError,
    IncidentReported,
    IncidentRetracted,
    IncidentUpdated,
    IntakeRejected,
)
from shared.ids import incident_id_for
from shared.service import ServiceRuntime
from shared.vocab import Category, RetractionReason

from .categories import categorise
from .domain import Decision, IncidentReport, Status, decide
from .store import IncidentRow, SourceTypeRow

REPORTS = Counter(
    "peerline_intake_reports_total", "Incident reports by path and outcome", ["via", "status"]
)
RETRIES = 3


class StaleIncident(Exception):
    """Another writer changed the incident between our read and our write."""


@dataclass(frozen=True)
class IntakeResult:
    incident_id: uuid.UUID
    status: Status


async def agency_overrides(session: AsyncSession, agency_id: str) -> dict[str, Category | None]:
    rows = await session.execute(
        select(SourceTypeRow.code, SourceTypeRow.category).where(
            SourceTypeRow.agency_id == agency_id
        )
    )
    return {code: Category(cat) if cat else None for code, cat in rows}


async def _category(session: AsyncSession, agency_id: str, report: IncidentReport) -> Category | None:
    if report.category is not None:
        return report.category
    assert report.source_type is not None
    return categorise(report.source_type, await agency_overrides(session, agency_id))


async def _apply(
    runtime: ServiceRuntime, session: AsyncSession, agency_id: str, report: IncidentReport
) -> IntakeResult:
    incident_id = incident_id_for(agency_id, report.external_id)
    category = await _category(session, agency_id, report)
    row = await session.get(IncidentRow, str(incident_id))
    decision: Decision = decide(row.current() if row else None, category, report)
    now = datetime.now(UTC)
    involved = [i.model_dump(mode="json") for i in decision.involved]
    if decision.status is Status.ACCEPTED:
        session.add(
            IncidentRow(
                incident_id=str(incident_id),
                agency_id=agency_id,
                external_id=report.external_id,
                category=decision.category.value,
                occurred_at=report.occurred_at,
                involved=involved,
                reported_at=now,
                updated_at=now,
            )
        )
        outbox.add(
            session,
            IncidentReported(
                agency_id=agency_id,
                occurred_at=report.occurred_at,
                incident_id=incident_id,
                external_id=report.external_id,
                category=decision.category,
                involved=list(decision.involved),
            ),
            source=runtime.source,
        )
    elif decision.status is Status.UPDATED:
        changed = await session.execute(
            update(IncidentRow)
            .where(IncidentRow.incident_id == str(incident_id), IncidentRow.version == row.version)
            .values(
                category=decision.category.value,
                involved=involved,
                version=row.version + 1,
                updated_at=now,
            )
        )
        if changed.rowcount != 1:
            raise StaleIncident
        outbox.add(
            session,
            IncidentUpdated(
                agency_id=agency_id,
                occurred_at=row.occurred_at,
                incident_id=incident_id,
                category=decision.category,
                involved=list(decision.involved),
            ),
            source=runtime.source,
        )
    return IntakeResult(incident_id, decision.status)


async def submit(
    runtime: ServiceRuntime,
    agency_id: str,
    report: IncidentReport,
    *,
    via: str,
    inbox_key: str | None = None,
) -> IntakeResult:
    """Apply a validated report in one transaction; `inbox_key` makes a bus redelivery
    a no-op."""
    for attempt in range(RETRIES):
        try:
            async with runtime.sessions() as session:
                if inbox_key and not await inbox.first_time(session, "intake", inbox_key):
                    incident_id = incident_id_for(agency_id, report.external_id)
                    return IntakeResult(incident_id, Status.DUPLICATE)
                result = await _apply(runtime, session, agency_id, report)
                await runtime.commit(session)
            REPORTS.labels(via, result.status.value).inc()
            return result
        except (IntegrityError, StaleIncident):
            if attempt == RETRIES - 1:
                raise
    raise AssertionError("unreachable")


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


async def retract(
    runtime: ServiceRuntime, incident: IncidentRow, reason: RetractionReason
) -> bool:
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
