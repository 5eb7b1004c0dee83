"""From events to counted rows. Each batch is applied with a few multi-row statements
(one per table), keyed by the counted thing's id: applying an event twice, or a whole
replayed stream, writes the same rows, so the numbers never change by redelivery.

Incidents are the exception to plain inserts: a report, its updates and its retraction
must be applied in stream order, and they are few, so they are applied one by one.

A row counts at its event's time, unless that month's release is already frozen (or its
quarter closed): then it counts at the start of the next month that is not, so what was
published never changes and the late event shows in the next release (decision 76).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

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

from .domain import Granularity, kind_of, period_of
from .store import (
    AcknowledgmentRow,
    AssignmentRow,
    CareEndedRow,
    ContactRow,
    FactRow,
    FirstOfferRow,
    IncidentRow,
    frozen_months,
)

CHUNK = 500  # rows per statement: SQLite's limit on bound parameters


async def _insert(session: AsyncSession, model, rows: list[dict]) -> None:
    if not rows:
        return
    stmt = upsert_insert(session)(model).on_conflict_do_nothing()
    for i in range(0, len(rows), CHUNK):
        await session.execute(stmt, rows[i : i + CHUNK])


Shift = Callable[[datetime], datetime]


async def counting_time(session: AsyncSession) -> Shift:
    """When a row of this batch counts: its own time, or the start of the first month
    after it whose release is not frozen."""
    frozen = await frozen_months(session)

    def shift(moment: datetime) -> datetime:
        while period_of(moment, Granularity.MONTH) in frozen:
            year, month = moment.year + (moment.month == 12), moment.month % 12 + 1
            moment = datetime(year, month, 1, tzinfo=UTC)
        return moment

    return shift


def _day(shift: Shift, day: date) -> date:
    return shift(datetime(day.year, day.month, day.day, tzinfo=UTC)).date()


def _fact(event: Event, measure: str, code: str, shift: Shift, on: date | None = None) -> dict:
    return {
        "fact_id": f"{event.event_id}:{measure}",
        "agency_id": event.agency_id,
        "measure": measure,
        "code": code,
        "on": _day(shift, on or event.occurred_at.date()),
    }


async def _incident(session: AsyncSession, event: Event, shift: Shift) -> None:
    if isinstance(event, IncidentReported):
        insert = upsert_insert(session)(IncidentRow)
        values = {
            "category": event.category.value,
            "involved": len({i.personnel_id for i in event.involved}),
        }
        stmt = insert.values(
            incident_id=str(event.incident_id),
            agency_id=event.agency_id,
            occurred_at=shift(event.occurred_at),
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
    shift = await counting_time(session)
    for item in items:
        event = item.value
        if isinstance(event, IncidentReported | IncidentUpdated | IncidentRetracted):
            await _incident(session, event, shift)
        elif isinstance(event, PeerAssigned):
            assignments.append(
                {
                    "assignment_id": str(event.assignment_id),
                    "incident_id": str(event.incident_id),
                    "agency_id": event.agency_id,
                    "supporter_agency_id": event.supporter_agency_id,
                    "supporter_id": event.supporter_id,
                    "assigned_at": shift(event.occurred_at),
                    "incident_occurred_at": event.incident_occurred_at,
                    "care_for_carer": AssignmentReason.CARE_FOR_CARER in event.reasons,
                }
            )
        elif isinstance(event, ContactLogged):
            contacts.append(
                {
                    "contact_id": str(event.contact_id),
                    "agency_id": event.agency_id,
                    "logged_at": shift(event.occurred_at),
                    "channel": event.channel.value,
                    "initiated_by": event.initiated_by.value,
                    "outcome": event.outcome.value,
                    "checkin_id": str(event.checkin_id) if event.checkin_id else None,
                    "officer_ref": event.officer_ref,
                }
            )
        elif isinstance(event, ReferralMade):
            facts.append(_fact(event, "referrals", event.resource_type.value, shift))
        elif isinstance(event, FeedbackSubmitted):
            facts.append(_fact(event, "ratings", str(event.rating), shift))
            facts.append(_fact(event, "recommend", "yes" if event.would_recommend else "no", shift))
        elif isinstance(event, ConfidentialityExceptionRecorded):
            facts.append(_fact(event, "exceptions", event.reason.value, shift, event.occurred_on))
        elif isinstance(event, AssignmentUnfilled):
            facts.append(_fact(event, "unfilled", event.reason.value, shift))
        elif isinstance(event, SupportRequested):
            facts.append(_fact(event, "requests_made", "made", shift))
        elif isinstance(event, SupportRequestResolved):
            if event.outcome is RequestOutcome.CANCELLED:  # a taken one is acknowledged
                facts.append(_fact(event, "requests_cancelled", "cancelled", shift))
        elif isinstance(event, AssignmentAcknowledged):
            acknowledgments.setdefault(
                str(event.assignment_id),
                {
                    "assignment_id": str(event.assignment_id),
                    "agency_id": event.agency_id,
                    "acknowledged_at": shift(event.occurred_at),
                    "for_request": event.for_request,
                    "waited_seconds": event.waited_seconds,
                    "within_deadline": event.within_deadline,
                },
            )
        elif isinstance(event, AssignmentReassigned):
            facts.append(_fact(event, "reassignments", kind_of(event.for_request), shift))
        elif isinstance(event, AssignmentEscalated):
            facts.append(_fact(event, "escalations", kind_of(event.for_request), shift))
    await _insert(session, AssignmentRow, assignments)
    await _insert(session, AcknowledgmentRow, list(acknowledgments.values()))
    await _insert(session, ContactRow, contacts)
    await _insert(session, FactRow, facts)


async def apply_scheduled(session: AsyncSession, items: list[Received[CheckInScheduled]]) -> None:
    """First offers: check-ins of sequence 1 (follow-ups are not offers of their own)."""
    shift = await counting_time(session)
    rows = [
        {
            "checkin_id": str(e.checkin_id),
            "assignment_id": str(e.assignment_id),
            "agency_id": e.agency_id,
            "scheduled_at": shift(e.occurred_at),
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
