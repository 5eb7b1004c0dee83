"""The metrics service's own tables: one row per counted thing, keyed by the id of the
event or record it counts, so a replayed stream (a new durable, a restored backup)
writes the same rows again and changes no number.

What is kept is what a count needs. No personnel id, ever. Incidents keep their id
(updates and retractions name it) and the size of their involved list, not the list.
`officer_ref` (a keyed pseudonym) on contacts counts distinct officers while a quarter
is open; when it closes the counts are frozen into `metrics_distinct` and the refs
dropped. A supporter id stays on an assignment only while its care is open, to draw the
load histogram. Acknowledgments keep how long they took, never who gave them; officers'
requests are counted by their events, so no request id is kept at all.

`read_counts` is the query a release makes: everything it counts, for an agency or the
region, over a window.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, Integer, String, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, service_metadata

from .domain import (
    LOAD_ROWS,
    WITHIN,
    Counts,
    Window,
    acknowledged_measure,
    kind_of,
    months_of_quarter,
)


class Base(DeclarativeBase):
    """The metrics service's own tables (the kernel's: `shared.db.KernelBase`)."""

    metadata = service_metadata()


class IncidentRow(Base):
    __tablename__ = "metrics_incidents"

    incident_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    involved: Mapped[int] = mapped_column(Integer)  # distinct officers involved
    retracted: Mapped[bool] = mapped_column(Boolean, default=False)


class AssignmentRow(Base):
    __tablename__ = "metrics_assignments"

    assignment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The incident (a request's or a care episode's id otherwise): a retracted incident's
    # offers are not counted.
    incident_id: Mapped[str | None] = mapped_column(String(36), default=None)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)  # the officer's
    supporter_agency_id: Mapped[str] = mapped_column(String(32))
    supporter_id: Mapped[str | None] = mapped_column(String(128), default=None)  # while open
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    incident_occurred_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    care_for_carer: Mapped[bool] = mapped_column(Boolean, default=False)


class CareEndedRow(Base):
    """Assignments whose care has ended (from `CheckInClosed`, on another stream than
    `PeerAssigned`, so it may arrive first)."""

    __tablename__ = "metrics_care_ended"

    assignment_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class FirstOfferRow(Base):
    """A check-in of sequence 1: the first offer of support to one officer."""

    __tablename__ = "metrics_first_offers"

    checkin_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(36), index=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
    scheduled_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class ContactRow(Base):
    __tablename__ = "metrics_contacts"

    contact_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
    logged_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    initiated_by: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(32))
    checkin_id: Mapped[str | None] = mapped_column(String(36), index=True, default=None)
    officer_ref: Mapped[str | None] = mapped_column(String(128), default=None)  # while open


class AcknowledgmentRow(Base):
    """An assignment's first acknowledgment by its supporter (`AssignmentAcknowledged`):
    its kind, how long the officer had waited and whether within the deadline. Keyed by
    the assignment, so one acknowledged again after a coordinator moved it counts once,
    with the wait of its first."""

    __tablename__ = "metrics_acknowledgments"

    assignment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)  # the officer's
    acknowledged_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    for_request: Mapped[bool] = mapped_column(Boolean)
    waited_seconds: Mapped[int] = mapped_column(Integer)
    within_deadline: Mapped[bool] = mapped_column(Boolean)


class FactRow(Base):
    """One counted code of one event: a referral's resource type, a rating, an
    exception's reason, an unfilled assignment's reason, an officer's request made or
    withdrawn, an assignment moved or escalated (by kind)."""

    __tablename__ = "metrics_facts"

    fact_id: Mapped[str] = mapped_column(String(80), primary_key=True)  # event id:measure
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
    measure: Mapped[str] = mapped_column(String(40), index=True)
    code: Mapped[str] = mapped_column(String(40))
    on: Mapped[date] = mapped_column(Date, index=True)


class DistinctRow(Base):
    """Distinct officers supported in a closed period, frozen when its refs were
    dropped. `agency_id` is `*` for the region."""

    __tablename__ = "metrics_distinct"

    agency_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    officers: Mapped[int] = mapped_column(Integer)


class ReleaseRow(Base):
    """A closed month's release for the region and every agency, frozen the first time
    it was asked for (`freezing`): what was published stays published, word for word."""

    __tablename__ = "metrics_releases"

    period: Mapped[str] = mapped_column(String(8), primary_key=True)  # a month, 2026-03
    body: Mapped[dict] = mapped_column(JSON)
    frozen_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LedgerRow(Base):
    """The differential-privacy budget spent on releases about one period."""

    __tablename__ = "metrics_dp_ledger"

    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    spent: Mapped[float] = mapped_column(Float)


async def read_counts(session: AsyncSession, agency: str | None, window: Window) -> Counts:
    """Everything a release counts, for `agency` (its officers) or the region (None)."""
    counts = Counts(window.periods)

    def scoped(query, column):
        return query if agency is None else query.where(column == agency)

    since, until = window.since, window.until
    incidents = await session.execute(
        scoped(
            select(IncidentRow.category, IncidentRow.occurred_at, IncidentRow.involved).where(
                IncidentRow.occurred_at >= since,
                IncidentRow.occurred_at < until,
                IncidentRow.retracted.is_(False),
            ),
            IncidentRow.agency_id,
        )
    )
    for category, occurred_at, involved in incidents:
        counts.add("incidents", category, window.period(occurred_at))
        counts.add("officers_involved", category, window.period(occurred_at), involved)
        counts.officers_involved_total += involved

    contacts = (
        await session.execute(
            scoped(
                select(
                    ContactRow.logged_at,
                    ContactRow.channel,
                    ContactRow.initiated_by,
                    ContactRow.outcome,
                    ContactRow.officer_ref,
                ).where(ContactRow.logged_at >= since, ContactRow.logged_at < until),
                ContactRow.agency_id,
            )
        )
    ).all()
    officers: dict[str, set[str]] = defaultdict(set)
    for logged_at, channel, initiated_by, outcome, officer_ref in contacts:
        period = window.period(logged_at)
        counts.add("contacts_by_channel", channel, period)
        counts.add("contacts_by_initiator", initiated_by, period)
        counts.add("contacts_by_outcome", outcome, period)
        if officer_ref is not None:
            officers[period].add(officer_ref)
    frozen = dict(
        (
            await session.execute(
                select(DistinctRow.period, DistinctRow.officers).where(
                    DistinctRow.agency_id == (agency or "*"),
                    DistinctRow.period.in_(window.periods),
                )
            )
        ).all()
    )
    for period in window.periods:
        counts.add("officers_supported", "officers", period, frozen.get(period, 0))
        if period not in frozen:
            counts.add("officers_supported", "officers", period, len(officers[period]))

    facts = await session.execute(
        scoped(
            select(FactRow.measure, FactRow.code, FactRow.on).where(
                FactRow.on >= window.start, FactRow.on <= window.end
            ),
            FactRow.agency_id,
        )
    )
    for measure, code, on in facts:
        counts.add(measure, code, window.period(on))

    await _first_offers(session, agency, window, counts)
    await _assignments(session, agency, window, counts)
    await _acknowledgments(session, agency, window, counts)
    return counts


async def _acknowledgments(
    session: AsyncSession, agency: str | None, window: Window, counts: Counts
) -> None:
    """Acknowledgments in the window by kind and deadline, and how long each took."""
    query = select(
        AcknowledgmentRow.acknowledged_at,
        AcknowledgmentRow.for_request,
        AcknowledgmentRow.waited_seconds,
        AcknowledgmentRow.within_deadline,
    ).where(
        AcknowledgmentRow.acknowledged_at >= window.since,
        AcknowledgmentRow.acknowledged_at < window.until,
    )
    if agency is not None:
        query = query.where(AcknowledgmentRow.agency_id == agency)
    for acknowledged_at, for_request, waited_seconds, within_deadline in await session.execute(
        query
    ):
        period = window.period(acknowledged_at)
        row = "within_deadline" if within_deadline else "late"
        counts.add(acknowledged_measure(for_request), row, period)
        counts.minutes_to_acknowledge[kind_of(for_request)][period].append(waited_seconds / 60)


async def _first_offers(
    session: AsyncSession, agency: str | None, window: Window, counts: Counts
) -> None:
    """Each first offer by how long after the incident its first contact came."""
    query = (
        select(
            FirstOfferRow.checkin_id,
            FirstOfferRow.scheduled_at,
            AssignmentRow.incident_occurred_at,
            AssignmentRow.assigned_at,
        )
        .outerjoin(AssignmentRow, AssignmentRow.assignment_id == FirstOfferRow.assignment_id)
        .outerjoin(IncidentRow, IncidentRow.incident_id == AssignmentRow.incident_id)
        .where(
            FirstOfferRow.scheduled_at >= window.since,
            FirstOfferRow.scheduled_at < window.until,
            IncidentRow.retracted.is_not(True),  # a retracted incident's offers do not count
        )
    )
    if agency is not None:
        query = query.where(FirstOfferRow.agency_id == agency)
    offers = (await session.execute(query)).all()
    first_contact: dict[str, datetime] = {}
    ids = [o.checkin_id for o in offers]
    for i in range(0, len(ids), 500):
        rows = await session.execute(
            select(ContactRow.checkin_id, ContactRow.logged_at).where(
                ContactRow.checkin_id.in_(ids[i : i + 500])
            )
        )
        for checkin_id, logged_at in rows:
            known = first_contact.get(checkin_id)
            first_contact[checkin_id] = logged_at if known is None else min(known, logged_at)
    for checkin_id, scheduled_at, incident_at, assigned_at in offers:
        period = window.period(scheduled_at)
        contacted = first_contact.get(checkin_id)
        if contacted is None:
            counts.add("first_offers", "no_contact_yet", period)
            continue
        delay = contacted - (incident_at or assigned_at or scheduled_at)
        counts.add("first_offers", "within_72h" if delay <= WITHIN else "after_72h", period)
        counts.hours_to_first_contact[period].append(delay.total_seconds() / 3600)


async def _assignments(
    session: AsyncSession, agency: str | None, window: Window, counts: Counts
) -> None:
    """Care-for-the-carers offers in the window; supporters' open assignments now."""
    query = select(AssignmentRow.assigned_at).where(
        AssignmentRow.care_for_carer.is_(True),
        AssignmentRow.assigned_at >= window.since,
        AssignmentRow.assigned_at < window.until,
    )
    if agency is not None:
        query = query.where(AssignmentRow.agency_id == agency)
    for (assigned_at,) in await session.execute(query):
        counts.add("care_for_carers", "offered", window.period(assigned_at))

    open_query = (
        select(AssignmentRow.supporter_id)
        .outerjoin(CareEndedRow, CareEndedRow.assignment_id == AssignmentRow.assignment_id)
        .where(CareEndedRow.assignment_id.is_(None), AssignmentRow.supporter_id.is_not(None))
    )
    if agency is not None:
        open_query = open_query.where(AssignmentRow.supporter_agency_id == agency)
    per_supporter = Counter((await session.scalars(open_query)).all())
    counts.load = Counter(LOAD_ROWS[min(n, len(LOAD_ROWS)) - 1] for n in per_supporter.values())


async def agencies_in(session: AsyncSession, window: Window) -> list[str]:
    """Every agency that has anything counted in the window (its officers' side)."""
    since, until = window.since, window.until
    query = union(
        select(IncidentRow.agency_id).where(
            IncidentRow.occurred_at >= since, IncidentRow.occurred_at < until
        ),
        select(ContactRow.agency_id).where(
            ContactRow.logged_at >= since, ContactRow.logged_at < until
        ),
        select(FactRow.agency_id).where(FactRow.on >= window.start, FactRow.on <= window.end),
        select(FirstOfferRow.agency_id).where(
            FirstOfferRow.scheduled_at >= since, FirstOfferRow.scheduled_at < until
        ),
        select(AssignmentRow.agency_id).where(
            AssignmentRow.assigned_at >= since, AssignmentRow.assigned_at < until
        ),
        select(AcknowledgmentRow.agency_id).where(
            AcknowledgmentRow.acknowledged_at >= since, AcknowledgmentRow.acknowledged_at < until
        ),
    )
    return sorted((await session.scalars(query)).all())


async def frozen_months(session: AsyncSession) -> set[str]:
    """Months whose figures are published for good: released, or in a closed quarter
    (whose officer pseudonyms are gone). A late event of one counts in the next month."""
    months = set(await session.scalars(select(ReleaseRow.period)))
    quarters = await session.scalars(
        select(DistinctRow.period).where(
            DistinctRow.agency_id == "*", DistinctRow.period.like("%Q%")
        )
    )
    for quarter in quarters:
        months.update(months_of_quarter(quarter))
    return months
