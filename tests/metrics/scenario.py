"""Events as the other services publish them, in one agency's January 2026, and the
clients that read the release."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from services.metrics.store import (
    AcknowledgmentRow,
    ContactRow,
    FactRow,
    FirstOfferRow,
    IncidentRow,
)
from shared.db import create_engine, sessionmaker
from shared.events import (
    AssignmentAcknowledged,
    AssignmentEscalated,
    AssignmentReassigned,
    CheckInScheduled,
    ConfidentialityExceptionRecorded,
    ContactLogged,
    Event,
    FeedbackSubmitted,
    IncidentReported,
    IncidentRetracted,
    Involved,
    PeerAssigned,
    ReferralMade,
    SupportRequested,
    SupportRequestResolved,
)
from shared.vocab import (
    Category,
    Channel,
    ContactOutcome,
    DurationBucket,
    EscalationReason,
    InitiatedBy,
    Reach,
    ReassignReason,
    RequestOutcome,
)
from tests.support.bus import publish
from tests.support.waiting import await_until

JAN = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
WINDOW = {"from": "2026-01-01", "to": "2026-03-31"}


def ref(n: int) -> str:
    return hashlib.sha256(f"officer-{n}".encode()).hexdigest()


def incident(agency: str, category: Category, officers: int, at: datetime = JAN):
    return IncidentReported(
        agency_id=agency,
        occurred_at=at,
        incident_id=uuid.uuid4(),
        external_id=f"X-{uuid.uuid4().hex[:8]}",
        category=category,
        involved=[Involved(personnel_id=f"P{i}", role="primary") for i in range(officers)],
    )


def offered_and_contacted(agency: str, n: int, after: timedelta) -> tuple[list[Event], list]:
    """`n` first offers whose first contact came `after` the incident: (events on
    PEERLINE_EVENTS, events on PEERLINE_CHECKINS)."""
    events, checkins = [], []
    for i in range(n):
        assignment, checkin = uuid.uuid4(), uuid.uuid4()
        events.append(
            PeerAssigned(
                agency_id=agency,
                occurred_at=JAN + timedelta(hours=1),
                assignment_id=assignment,
                incident_id=uuid.uuid4(),
                personnel_id=f"P{i}",
                supporter_id=f"S{i % 2}",
                supporter_agency_id=agency,
                incident_occurred_at=JAN,
            )
        )
        checkins.append(
            CheckInScheduled(
                agency_id=agency,
                occurred_at=JAN + timedelta(hours=1),
                checkin_id=checkin,
                assignment_id=assignment,
                incident_id=uuid.uuid4(),
                supporter_id=f"S{i % 2}",
                due_at=JAN + timedelta(hours=24),
                window_closes_at=JAN + timedelta(hours=72),
                sequence=1,
            )
        )
        events.append(contact(agency, i, JAN + after, checkin_id=checkin))
    return events, checkins


def contact(agency: str, officer: int, at: datetime, **more) -> ContactLogged:
    return ContactLogged(
        agency_id=agency,
        occurred_at=at,
        contact_id=uuid.uuid4(),
        supporter_id="S0",
        officer_ref=ref(officer),
        initiated_by=more.pop("initiated_by", InitiatedBy.SCHEDULED_CHECKIN),
        channel=more.pop("channel", Channel.PHONE),
        duration_bucket=DurationBucket.M15_30,
        outcome=more.pop("outcome", ContactOutcome.SUPPORT_PROVIDED),
        **more,
    )


def january(agency: str) -> tuple[list[Event], list]:
    """Six shootings with five officers each, one fatal collision with one officer, a
    retracted shooting; five offers contacted after 30 h; two referrals to a chaplain
    and six to the EAP; six ratings; one confidentiality exception."""
    retracted = incident(agency, Category.OFFICER_INVOLVED_SHOOTING, 5)
    events: list[Event] = [
        *(incident(agency, Category.OFFICER_INVOLVED_SHOOTING, 5) for _ in range(6)),
        incident(agency, Category.FATAL_COLLISION, 1),
        retracted,
        IncidentRetracted(
            agency_id=agency, incident_id=retracted.incident_id, reason="entered_in_error"
        ),
    ]
    offers, checkins = offered_and_contacted(agency, 5, timedelta(hours=30))
    events += offers
    referrals = [("chaplain", 2), ("eap", 6)]
    for kind, n in referrals:
        events += [
            ReferralMade(
                agency_id=agency,
                occurred_at=JAN,
                referral_id=uuid.uuid4(),
                contact_id=uuid.uuid4(),
                resource_type=kind,
                resource_id="R1",
                urgency="routine",
            )
            for _ in range(n)
        ]
    events += [
        FeedbackSubmitted(agency_id=agency, occurred_at=JAN, rating=5, would_recommend=True)
        for _ in range(6)
    ]
    events.append(
        ConfidentialityExceptionRecorded(
            agency_id=agency,
            occurred_at=JAN,
            exception_id=uuid.uuid4(),
            reason="imminent_harm",
            occurred_on=JAN.date(),
        )
    )
    return events, checkins


def table(answer: dict, name: str) -> dict:
    return next(t for t in answer["tables"] if t["name"] == name)


def cell(answer: dict, name: str, row: str, period: str = "2026-01") -> dict:
    t = table(answer, name)
    r = next(r for r in t["rows"] if r["key"] == row)
    return r["cells"][t["columns"].index(period)]


def published_cells(answer: dict) -> list[int]:
    values = []
    for t in answer["tables"]:
        for r in t["rows"]:
            values += [c["value"] for c in [*r["cells"], r["total"]] if c and not c["suppressed"]]
        values += [
            c["value"] for c in [*(t["totals"] or []), t["total"]] if c and not c["suppressed"]
        ]
    return values


def lines_giving_a_cell_away(answer: dict) -> list[str]:
    """Lines (a row with its total, a column with its total) with exactly one suppressed
    cell: subtraction from the published total would recover it."""
    bad = []
    for t in answer["tables"]:
        if t["totals"] is None:
            continue
        grid = [[*r["cells"], r["total"]] for r in t["rows"]] + [[*t["totals"], t["total"]]]
        lines = grid + [list(col) for col in zip(*grid, strict=True)]
        bad += [t["name"] for line in lines if sum(c["suppressed"] for c in line) == 1]
    return bad


async def count_rows(service, model) -> int:
    url = service.runtime.engine.url.render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session:
            return await session.scalar(select(func.count()).select_from(model))
    finally:
        await engine.dispose()


async def counted(
    metrics, incidents: int, contacts: int, offers: int, facts: int, acknowledgments: int = 0
) -> None:
    async def done() -> bool:
        return (
            await count_rows(metrics, IncidentRow),
            await count_rows(metrics, ContactRow),
            await count_rows(metrics, FirstOfferRow),
            await count_rows(metrics, FactRow),
            await count_rows(metrics, AcknowledgmentRow),
        ) == (incidents, contacts, offers, facts, acknowledgments)

    await await_until(done, timeout=30, what="events counted")


def acknowledged(
    agency: str, waited: int, within: bool, for_request: bool, assignment: uuid.UUID | None = None
) -> AssignmentAcknowledged:
    return AssignmentAcknowledged(
        agency_id=agency,
        occurred_at=JAN + timedelta(seconds=waited),
        assignment_id=assignment or uuid.uuid4(),
        supporter_id="S1",
        reach_by=JAN + timedelta(hours=1),
        waited_seconds=waited,
        within_deadline=within,
        for_request=for_request,
    )


def reassigned(agency: str, for_request: bool) -> AssignmentReassigned:
    return AssignmentReassigned(
        agency_id=agency,
        occurred_at=JAN,
        assignment_id=uuid.uuid4(),
        previous_supporter_id="S1",
        supporter_id="S2",
        supporter_agency_id=agency,
        reason=ReassignReason.NOT_ACKNOWLEDGED,
        move=1,
        for_request=for_request,
    )


def requests(agency: str) -> list[Event]:
    """January's officers' requests and acknowledgments: seven requests, two withdrawn;
    six requests answered in 1, 2, 3, 4, 5 and 7 minutes (median 3.5), all in time, one
    of them answered again after a move (counted once); two incident assignments
    acknowledged (one late); five requests and two incident assignments moved; one
    request escalated."""
    made = [
        SupportRequested(
            agency_id=agency, occurred_at=JAN, request_id=uuid.uuid4(), reach=Reach.CALL
        )
        for _ in range(7)
    ]
    events: list[Event] = [*made]
    events += [
        SupportRequestResolved(
            agency_id=agency,
            occurred_at=JAN + timedelta(minutes=5),
            request_id=request.request_id,
            outcome=RequestOutcome.CANCELLED if i < 2 else RequestOutcome.TAKEN,
        )
        for i, request in enumerate(made)
    ]
    answers = [acknowledged(agency, m * 60, True, True) for m in (1, 2, 3, 4, 5, 7)]
    again = acknowledged(agency, 9000, False, True, assignment=answers[0].assignment_id)
    events += [*answers, again]
    events += [acknowledged(agency, 3600, True, False), acknowledged(agency, 20000, False, False)]
    events += [reassigned(agency, True) for _ in range(5)]
    events += [reassigned(agency, False) for _ in range(2)]
    events.append(
        AssignmentEscalated(
            agency_id=agency,
            occurred_at=JAN,
            assignment_id=uuid.uuid4(),
            reason=EscalationReason.MOVES_EXHAUSTED,
            moves=3,
            for_request=True,
        )
    )
    return events


async def requests_counted(metrics, agency: str) -> list[Event]:
    """January (so the agency is shown on its own) with its requests, counted."""
    events, checkins = january(agency)
    asked = requests(agency)
    await publish(metrics.nats_url, *events, *checkins, *asked)
    # 21 facts of January; 7 requests made, 2 withdrawn, 7 moves and 1 escalation;
    # 8 assignments acknowledged (one of them twice)
    await counted(metrics, 8, 5, 5, 21 + 17, acknowledgments=8)
    return [*events, *asked]


async def january_counted(metrics, agency: str) -> list:
    events, checkins = january(agency)
    await publish(metrics.nats_url, *events, *checkins)
    # 8 incidents, 5 contacts, 5 first offers, 8 referrals + 12 feedback facts + 1 exception
    await counted(metrics, 8, 5, 5, 21)
    return events
