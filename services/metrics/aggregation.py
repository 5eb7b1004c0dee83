"""From events to counted rows. Each batch is applied with a few multi-row statements
(one per table), keyed by the counted thing's id: applying an event twice, or a whole
replayed stream, writes the same rows, so the numbers never change by redelivery.

Incidents are the exception to plain inserts: a report, its updates and its retraction
must be applied in stream order, and they are few, so they are applied one by one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import Received
from shared.db import upsert_insert
from shared.events import (
    AssignmentAcknowledged,
    AssignmentEscalated,
    AssignmentReassigned,
    AssignmentUnfilled,
    CheckInClosed,
    CheckInScheduled,
    ConfidentialityExceptionRecorded,
    ContactLogged,
    Event,
    FeedbackSubmitted,
    IncidentReported,
    IncidentRetracted,
    IncidentUpdated,
    PeerAssigned,
    ReferralMade,
    SupportRequested,
    SupportRequestResolved,
)
from shared.vocab import AssignmentReason, RequestOutcome

from .domain import kind_of
from .store import (
    AcknowledgmentRow,
    AssignmentRow,
    CareEndedRow,
    ContactRow,
    FactRow,
    FirstOfferRow,
    IncidentRow,
)

CHUNK = 500  # rows per statement: SQLite's limit on bound parameters


async def _insert(session: AsyncSession, model, rows: list[dict]) -> None:
    if not rows:
        return
    stmt = upsert_insert(session)(model).on_conflict_do_nothing()
    for i in range(0, len(rows), CHUNK):
        await session.execute(stmt, rows[i : i + CHUNK])


def _fact(event: Event, measure: str, code: str, on: datetime | None = None) -> dict:
    return {
        "fact_id": f"{event.event_id}:{measure}",
        "agency_id": event.agency_id,
        "measure": measure,
        "code": code,
        "on": (on or event.occurred_at).date(),
    }


async def _incident(session: AsyncSession, event: Event) -> None:
    if isinstance(event, IncidentReported):
        insert = upsert_insert(session)(IncidentRow)
        values = {
            "category": event.category.value,
            "involved": len({i.personnel_id for i in event.involved}),
        }
        stmt = insert.values(
            incident_id=str(event.incident_id),
            agency_id=event.agency_id,
            occurred_at=event.occurred_at,
            retracted=False,
            **values,
        ).on_conflict_do_update(index_elements=["incident_id"], set_=values)
        await session.execute(stmt)
    elif isinstance(event, IncidentUpdated):
        await session.execute(
            update(IncidentRow)
            .where(IncidentRow.incident_id == str(event.incident_id))
            .values(
                category=event.category.value,
                involved=len({i.personnel_id for i in event.involved}),
            )
        )
    elif isinstance(event, IncidentRetracted):
        await session.execute(
            update(IncidentRow)
            .where(IncidentRow.incident_id == str(event.incident_id))
            .values(retracted=True)
        )


async def apply_events(session: AsyncSession, items: list[Received[Event]]) -> None:
    """The events of `PEERLINE_EVENTS` that metrics count; every other is ignored."""
    assignments, contacts, facts = [], [], []
    acknowledgments: dict[str, dict] = {}  # by assignment: the first one counts
    for item in items:
        event = item.value
        if isinstance(event, IncidentReported | IncidentUpdated | IncidentRetracted):
            await _incident(session, event)
        elif isinstance(event, PeerAssigned):
            assignments.append(
                {
                    "assignment_id": str(event.assignment_id),
                    "agency_id": event.agency_id,
                    "supporter_agency_id": event.supporter_agency_id,
                    "supporter_id": event.supporter_id,
                    "assigned_at": event.occurred_at,
                    "incident_occurred_at": event.incident_occurred_at,
                    "care_for_carer": AssignmentReason.CARE_FOR_CARER in event.reasons,
                }
            )
        elif isinstance(event, ContactLogged):
            contacts.append(
                {
                    "contact_id": str(event.contact_id),
                    "agency_id": event.agency_id,
                    "logged_at": event.occurred_at,
                    "channel": event.channel.value,
                    "initiated_by": event.initiated_by.value,
                    "outcome": event.outcome.value,
                    "checkin_id": str(event.checkin_id) if event.checkin_id else None,
                    "officer_ref": event.officer_ref,
                }
            )
        elif isinstance(event, ReferralMade):
            facts.append(_fact(event, "referrals", event.resource_type.value))
        elif isinstance(event, FeedbackSubmitted):
            facts.append(_fact(event, "ratings", str(event.rating)))
            facts.append(_fact(event, "recommend", "yes" if event.would_recommend else "no"))
        elif isinstance(event, ConfidentialityExceptionRecorded):
            fact = _fact(event, "exceptions", event.reason.value)
            facts.append(fact | {"on": event.occurred_on})
        elif isinstance(event, AssignmentUnfilled):
            facts.append(_fact(event, "unfilled", event.reason.value))
        elif isinstance(event, SupportRequested):
            facts.append(_fact(event, "requests_made", "made"))
        elif isinstance(event, SupportRequestResolved):
            if event.outcome is RequestOutcome.CANCELLED:  # a taken one is acknowledged
                facts.append(_fact(event, "requests_cancelled", "cancelled"))
        elif isinstance(event, AssignmentAcknowledged):
            acknowledgments.setdefault(
                str(event.assignment_id),
                {
                    "assignment_id": str(event.assignment_id),
                    "agency_id": event.agency_id,
                    "acknowledged_at": event.occurred_at,
                    "for_request": event.for_request,
                    "waited_seconds": event.waited_seconds,
                    "within_deadline": event.within_deadline,
                },
            )
        elif isinstance(event, AssignmentReassigned):
            facts.append(_fact(event, "reassignments", kind_of(event.for_request)))
        elif isinstance(event, AssignmentEscalated):
            facts.append(_fact(event, "escalations", kind_of(event.for_request)))
    await _insert(session, AssignmentRow, assignments)
    await _insert(session, AcknowledgmentRow, list(acknowledgments.values()))
    await _insert(session, ContactRow, contacts)
    await _insert(session, FactRow, facts)


async def apply_scheduled(session: AsyncSession, items: list[Received[CheckInScheduled]]) -> None:
    """First offers: check-ins of sequence 1 (follow-ups are not offers of their own)."""
    rows = [
        {
            "checkin_id": str(e.checkin_id),
            "assignment_id": str(e.assignment_id),
            "agency_id": e.agency_id,
            "scheduled_at": e.occurred_at,
        }
        for e in (item.value for item in items)
        if isinstance(e, CheckInScheduled) and e.sequence == 1
    ]
    await _insert(session, FirstOfferRow, rows)


async def apply_closed(session: AsyncSession, items: list[Received[CheckInClosed]]) -> None:
    """Care that ended gives the supporter's load back (and forgets who it was)."""
    ended = [
        str(e.assignment_id)
        for e in (item.value for item in items)
        if isinstance(e, CheckInClosed) and e.care_ended and e.assignment_id
    ]
    await _insert(session, CareEndedRow, [{"assignment_id": a} for a in ended])
    if ended:
        await session.execute(
            update(AssignmentRow)
            .where(AssignmentRow.assignment_id.in_(ended))
            .values(supporter_id=None)
        )
