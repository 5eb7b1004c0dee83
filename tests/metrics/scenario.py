"""Events as the other services publish them, in one agency's January 2026, and the
clients that read the release."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from services.metrics.store import ContactRow, FactRow, FirstOfferRow, IncidentRow
from shared.db import create_engine, sessionmaker
from shared.events import (
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
)
from shared.vocab import Category, Channel, ContactOutcome, DurationBucket, InitiatedBy
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


async def _count(service, model) -> int:
    url = service.runtime.engine.url.render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        async with sessionmaker(engine)() as session:
            return await session.scalar(select(func.count()).select_from(model))
    finally:
        await engine.dispose()


async def counted(metrics, incidents: int, contacts: int, offers: int, facts: int) -> None:
    async def done() -> bool:
        return (
            await _count(metrics, IncidentRow),
            await _count(metrics, ContactRow),
            await _count(metrics, FirstOfferRow),
            await _count(metrics, FactRow),
        ) == (incidents, contacts, offers, facts)

    await await_until(done, timeout=30, what="events counted")


async def january_counted(metrics, agency: str) -> list:
    events, checkins = january(agency)
    await publish(metrics.nats_url, *events, *checkins)
    # 8 incidents, 5 contacts, 5 first offers, 8 referrals + 12 feedback facts + 1 exception
    await counted(metrics, 8, 5, 5, 21)
    return events
