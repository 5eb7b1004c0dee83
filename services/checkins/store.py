"""The check-ins service's own tables.

Identifiable care records (rule 8) are `assignments` (which officer a supporter
reaches) with their `checkins`, `contacts` and `referrals`: all of them are purged
together once the care window has passed (`retention`). Contacts and referrals hold
codes, buckets and times only, never content (rule 1), and name the officer only by
`officer_ref`. `exceptions` hold a reason code and a date. `unspent_feedback_codes`
hold a hash of each code and its agency, linked to nothing. `resources`, `known_officers`
and `policies` are directories: the first two read models of the roster's events.
`assignment_moves` and `officer_requests` hold ids only: what check-ins heard of an
assignment's moves and of an officer's request, kept even before the assignment is
known (`care`), and purged once as old as care records (`retention`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, service_metadata


class Base(DeclarativeBase):
    """The checkins service's own tables (the kernel's: `shared.db.KernelBase`)."""

    metadata = service_metadata()


class AssignmentRow(Base):
    __tablename__ = "assignments"

    assignment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)  # the officer's
    incident_id: Mapped[str] = mapped_column(String(36), index=True)
    personnel_id: Mapped[str] = mapped_column(String(128))  # the officer: identifiable
    supporter_id: Mapped[str] = mapped_column(String(128), index=True)
    supporter_agency_id: Mapped[str] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(40), default=None)
    incident_occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime())
    care_for_carer: Mapped[bool] = mapped_column(Boolean, default=False)
    for_request: Mapped[bool] = mapped_column(Boolean, default=False)  # an officer asked
    care_ended: Mapped[bool] = mapped_column(Boolean, default=False)
    declined: Mapped[bool] = mapped_column(Boolean, default=False)
    last_activity_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class MoveRow(Base):
    """The supporter an assignment is with by the roster's latest move heard here: move
    0 its `PeerAssigned`, then each `AssignmentReassigned`. Both consumers write it, so
    a move heard before its assignment is kept for it, and the two wait for each other
    on its key (`care`)."""

    __tablename__ = "assignment_moves"

    assignment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))  # the officer's
    move: Mapped[int] = mapped_column(Integer)
    supporter_id: Mapped[str] = mapped_column(String(128))
    supporter_agency_id: Mapped[str] = mapped_column(String(32))
    heard_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class RequestRow(Base):
    """An officer's request as check-ins heard of it, by its id only: from its
    assignment's `PeerAssigned`, or from its withdrawal (`withdrawn`), whichever came
    first; both consumers write it, as `MoveRow`."""

    __tablename__ = "officer_requests"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    heard_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class CheckInRow(Base):
    __tablename__ = "checkins"
    __table_args__ = (UniqueConstraint("assignment_id", "sequence"),)

    checkin_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(36), index=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
    supporter_id: Mapped[str] = mapped_column(String(128))
    sequence: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    window_closes_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class ContactRow(Base):
    __tablename__ = "contacts"

    contact_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)  # the officer's
    supporter_id: Mapped[str] = mapped_column(String(128), index=True)
    supporter_agency_id: Mapped[str] = mapped_column(String(32))
    officer_ref: Mapped[str] = mapped_column(String(64))
    assignment_id: Mapped[str | None] = mapped_column(String(36), index=True, default=None)
    checkin_id: Mapped[str | None] = mapped_column(String(36), default=None)
    initiated_by: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    duration_bucket: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32))
    resources_offered: Mapped[list] = mapped_column(JSON)
    logged_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class ReferralRow(Base):
    __tablename__ = "referrals"

    referral_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(36), index=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(128))
    resource_type: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(16))
    made_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ResourceRow(Base):
    """The roster's resource directory as its events describe it (no names or numbers:
    referrals need only what a resource is and whose)."""

    __tablename__ = "known_resources"

    resource_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))  # the owner, or the writer if regional
    region_wide: Mapped[bool] = mapped_column(Boolean)
    resource_type: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())  # of the event applied


class PolicyRow(Base):
    """An agency's check-in policy for one category, or its `default` (durations in
    seconds)."""

    __tablename__ = "policies"

    agency_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    first_offer_after: Mapped[float] = mapped_column(Float)
    window_closes_after: Mapped[float] = mapped_column(Float)
    follow_ups: Mapped[list] = mapped_column(JSON)
    anniversary_after: Mapped[float | None] = mapped_column(Float, default=None)
    follow_up_min_gap: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class FeedbackCodeRow(Base):
    """A feedback code not yet spent, as its hash and agency only: spending deletes it,
    and on SQLite no rowid keeps the order codes were issued in."""

    __tablename__ = "unspent_feedback_codes"
    __table_args__ = ({"sqlite_with_rowid": False},)

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))


class ExceptionRow(Base):
    __tablename__ = "confidentiality_exceptions"

    exception_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    occurred_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_by_role: Mapped[str] = mapped_column(String(32))
    assignment_id: Mapped[str | None] = mapped_column(String(36), default=None)


class KnownOfficerRow(Base):
    """An officer the roster knows, as their pseudonym only (`officer_ref`, keyed by
    the agency too): a read model of `OfficerUpdated`, so that a contact without a
    check-in names a real officer (`officers`)."""

    __tablename__ = "known_officers"

    officer_ref: Mapped[str] = mapped_column(String(128), primary_key=True)
