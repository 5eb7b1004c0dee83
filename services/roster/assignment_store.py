"""What matching decided, per officer and incident, and each supporter's load.

One row per (incident, officer) whatever the outcome: assigned, unfilled, opted out or
released. Its key makes matching idempotent: a redelivered or replayed incident event,
or a second replica racing on the same incident, finds the row and does nothing. A
supporter's open assignments are a counter raised only while below their cap, by one
conditional UPDATE, so two replicas racing for the last slot cannot both take it.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.roster.store import Base
from shared.db import UtcDateTime


class Outcome(enum.StrEnum):
    ASSIGNED = "assigned"
    UNFILLED = "unfilled"
    OPTED_OUT = "opted_out"
    RELEASED = "released"  # the incident was retracted
    CLOSED = "closed"  # the care ended: no further offer is pending


class MatchRow(Base):
    __tablename__ = "matches"

    incident_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    personnel_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    assignment_id: Mapped[str | None] = mapped_column(String(36), index=True, default=None)
    supporter_id: Mapped[str | None] = mapped_column(String(128), index=True, default=None)
    supporter_agency_id: Mapped[str | None] = mapped_column(String(32), default=None)
    reasons: Mapped[list] = mapped_column(JSON, default=list)  # codes, or the unfilled reason
    category: Mapped[str | None] = mapped_column(String(40), default=None)
    # Care for the carers: the supporter this row's "officer" is, when it is one.
    cares_for: Mapped[str | None] = mapped_column(String(128), index=True, default=None)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    # Acknowledgment (docs/requests.md): by when the supporter must take it, when they
    # did and by when they said they would reach the officer; the supporters it moved
    # away from (`tried`, the current one not included); and, once it will not move
    # again, when and why it went to the coordinators.
    for_request: Mapped[bool] = mapped_column(Boolean, default=False)
    acknowledge_by: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    reach_by: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    moves: Mapped[int] = mapped_column(Integer, default=0)
    tried: Mapped[list] = mapped_column(JSON, default=list)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    escalation: Mapped[str | None] = mapped_column(String(24), default=None)


class RequestState(enum.StrEnum):
    SENT = "sent"  # offered to a supporter, not yet acknowledged
    TAKEN = "taken"  # a supporter said when they will reach the officer
    ESCALATED = "escalated"  # with the coordinators: nobody took it in time
    CANCELLED = "cancelled"  # the officer withdrew it


class RequestRow(Base):
    """An officer's request for a peer: what they asked for this time, nothing else. The
    match it leads to is the `MatchRow` whose incident_id is the request_id."""

    __tablename__ = "support_requests"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    personnel_id: Mapped[str] = mapped_column(String(128), index=True)
    reach: Mapped[str] = mapped_column(String(16))
    preferred_gender: Mapped[str | None] = mapped_column(String(40), default=None)
    language: Mapped[str | None] = mapped_column(String(40), default=None)
    outside_agency: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class LoadRow(Base):
    __tablename__ = "supporter_loads"

    supporter_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    open_assignments: Mapped[int] = mapped_column(Integer, default=0)
