"""The notify service's own tables (prefixed `notification_`: tests share one metadata).

`notification_deliveries` is the ledger: one row per (cause event, recipient), so a
redelivered or replayed cause, or two replicas consuming at once, can never make a
second delivery. The row carries what the delivery worker needs and no message body or
contact detail: those are made and looked up at send time and live only in memory.
`acknowledge_by` is kept because the sentence that asks for it is made at send time, in
the recipient's time zone then.

`notification_fanouts` holds causes meant for an agency's coordinators until the
worker has looked the coordinators up and written one delivery each.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, service_metadata


class Base(DeclarativeBase):
    """The notify service's own tables (the kernel's: `shared.db.KernelBase`)."""

    metadata = service_metadata()


class Status(enum.StrEnum):
    PENDING = "pending"  # to send, now or at next_attempt_at
    SENT = "sent"
    FAILED = "failed"  # every channel failed, or there was none


class Hold(enum.StrEnum):
    """Why a pending delivery waits, besides a retry."""

    QUIET_HOURS = "quiet_hours"
    RATE_LIMIT = "rate_limit"


class DeliveryRow(Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("cause_event_id", "recipient_id"),
        Index("ix_notification_deliveries_due", "status", "next_attempt_at"),
        Index("ix_notification_deliveries_recipient", "recipient_id", "sent_at"),
    )

    notification_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    cause_event_id: Mapped[str] = mapped_column(String(36))
    recipient_id: Mapped[str] = mapped_column(String(128))
    agency_id: Mapped[str] = mapped_column(String(32), index=True)  # the cause's
    recipient_agency_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(36), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the supporter must have acknowledged the assignment it names (None: no deadline).
    acknowledge_by: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    status: Mapped[str] = mapped_column(String(16))
    channel_index: Mapped[int] = mapped_column(Integer, default=0)  # in the recipient's order
    channel: Mapped[str | None] = mapped_column(String(16), default=None)  # last tried
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # of the current channel
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    held_for: Mapped[str | None] = mapped_column(String(16), default=None)
    last_error: Mapped[str | None] = mapped_column(String(32), default=None)  # a code
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    lease_owner: Mapped[str | None] = mapped_column(String(36), default=None)
    traceparent: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)


class FanoutRow(Base):
    __tablename__ = "notification_fanouts"

    cause_event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(36))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    expanded_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    traceparent: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


async def deliveries(
    session: AsyncSession, agency: str | None, status: Status | None, limit: int
) -> Sequence[DeliveryRow]:
    """Deliveries newest first: of `agency` (None: every agency's), in `status` (None:
    any)."""
    query = select(DeliveryRow)
    if agency is not None:
        query = query.where(DeliveryRow.agency_id == agency)
    if status is not None:
        query = query.where(DeliveryRow.status == status)
    query = query.order_by(DeliveryRow.created_at.desc(), DeliveryRow.notification_id).limit(limit)
    return (await session.scalars(query)).all()
