"""The metrics service's own tables: one row per counted thing, keyed by the id of the
event or record it counts, so a replayed stream (a new durable, a restored backup)
writes the same rows again and changes no number.

What is kept is what a count needs. No personnel id, ever. Incidents keep their id
(updates and retractions name it) and the size of their involved list, not the list.
`officer_ref` (a keyed pseudonym) on contacts counts distinct officers while a quarter
is open; when it closes the counts are frozen into `metrics_distinct` and the refs
dropped. A supporter id stays on an assignment only while its care is open, to draw the
load histogram.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, service_metadata


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


class FactRow(Base):
    """One counted code of one event: a referral's resource type, a rating, an
    exception's reason, an unfilled assignment's reason."""

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


class LedgerRow(Base):
    """The differential-privacy budget spent on releases about one period."""

    __tablename__ = "metrics_dp_ledger"

    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    spent: Mapped[float] = mapped_column(Float)
