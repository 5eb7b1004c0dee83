"""Cause events into the delivery ledger, in the consumer's transaction.

Each trigger event becomes a delivery row keyed (cause event, recipient), or for the
coordinators a fan-out row the delivery worker expands. Nothing is sent here: sending
waits on other systems, and a consumer transaction must not (`delivery` sends after the
commit). Inserts ignore a row that exists, so replicas and redeliveries that slip past
the inbox still leave one row per (cause, recipient).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opentelemetry import propagate
from opentelemetry.context import Context
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import Received
from shared.db import upsert_insert
from shared.events import Event
from shared.ids import derived_event_id

from .domain import ASSIGNED, Kind, notice_of
from .store import DeliveryRow, FanoutRow, Status

# How long an officer's request message stands for the first offer's prompt.
REQUEST_PROMPTS_FOR = timedelta(hours=1)


def notification_id(cause_event_id: object, recipient_id: str) -> str:
    return str(derived_event_id("notification", cause_event_id, recipient_id))


def traceparent(context: Context | None) -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return carrier.get("traceparent")


async def record(session: AsyncSession, items: list[Received[Event]]) -> None:
    now = datetime.now(UTC)
    insert = upsert_insert(session)
    for item in items:
        event = item.value
        notice = notice_of(event)
        urgent = notice.urgent
        if notice.follows_assignment and not urgent:
            urgent = await assignment_urgent(session, notice.reference)
        common = {
            "cause_event_id": str(event.event_id),
            "agency_id": event.agency_id,
            "kind": notice.kind,
            "reference": str(notice.reference),
            "urgent": urgent,
            "traceparent": traceparent(item.trace),
            "next_attempt_at": now,
            "created_at": now,
        }
        if notice.supporter_id is None:
            statement = insert(FanoutRow).values(**common)
            await session.execute(statement.on_conflict_do_nothing())
            continue
        agency = notice.recipient_agency_id
        if notice.kind is Kind.CHECKIN_DUE:
            if await just_asked(session, notice.reference, notice.supporter_id, now):
                continue
            found = await supporter_agency(session, notice.reference, notice.supporter_id)
            agency = found or agency
        statement = insert(DeliveryRow).values(
            notification_id=notification_id(event.event_id, notice.supporter_id),
            recipient_id=notice.supporter_id,
            recipient_agency_id=agency,
            acknowledge_by=notice.acknowledge_by,
            status=Status.PENDING,
            **common,
        )
        await session.execute(statement.on_conflict_do_nothing())


async def just_asked(
    session: AsyncSession, assignment_id: object, supporter_id: str, now: datetime
) -> bool:
    """Whether the supporter was sent an officer's request for this assignment within
    the hour: its first offer falls due at once, and the request's own message already
    asks them to reach the officer, so a second prompt beside it would only be noise."""
    found = await session.scalar(
        select(DeliveryRow.notification_id)
        .where(
            DeliveryRow.kind == Kind.REQUEST,
            DeliveryRow.reference == str(assignment_id),
            DeliveryRow.recipient_id == supporter_id,
            DeliveryRow.created_at > now - REQUEST_PROMPTS_FOR,
        )
        .limit(1)
    )
    return found is not None


async def supporter_agency(
    session: AsyncSession, assignment_id: object, supporter_id: str
) -> str | None:
    """The supporter's own agency, as the assignment's notification to them recorded it
    (when it was made or moved to them): a supporter from the regional pool belongs to
    another agency than the officer."""
    return await session.scalar(
        select(DeliveryRow.recipient_agency_id)
        .where(
            DeliveryRow.kind.in_(ASSIGNED),
            DeliveryRow.reference == str(assignment_id),
            DeliveryRow.recipient_id == supporter_id,
        )
        .order_by(DeliveryRow.created_at.desc())
        .limit(1)
    )


async def assignment_urgent(session: AsyncSession, assignment_id: object) -> bool:
    """Whether a message of the assignment's (made or moved) was urgent: an assignment
    after a shooting stays urgent when it moves or is escalated, though those events no
    longer name its category."""
    found = await session.scalar(
        select(DeliveryRow.notification_id)
        .where(
            DeliveryRow.kind.in_(ASSIGNED),
            DeliveryRow.reference == str(assignment_id),
            DeliveryRow.urgent.is_(True),
        )
        .limit(1)
    )
    return found is not None
