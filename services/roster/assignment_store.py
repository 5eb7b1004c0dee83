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

from sqlalchemy import JSON, Integer, String
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


class LoadRow(Base):
    __tablename__ = "supporter_loads"

    supporter_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    open_assignments: Mapped[int] = mapped_column(Integer, default=0)
