"""Cause events into the delivery ledger, in the consumer's transaction.

Each trigger event becomes a delivery row keyed (cause event, recipient), or for the
coordinators a fan-out row the delivery worker expands. Nothing is sent here: sending
waits on other systems, and a consumer transaction must not (`delivery` sends after the
commit). Inserts ignore a row that exists, so replicas and redeliveries that slip past
the inbox still leave one row per (cause, recipient).
"""

from __future__ import annotations

from datetime import UTC, datetime

from opentelemetry import propagate
from opentelemetry.context import Context
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import Received
from shared.db import upsert_insert
from shared.events import Event
from shared.ids import derived_event_id

from .domain import Kind, notice_of
from .store import DeliveryRow, FanoutRow, Status


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
        common = {
            "cause_event_id": str(event.event_id),
            "agency_id": event.agency_id,
            "kind": notice.kind,
            "reference": str(notice.reference),
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
            agency = await supporter_agency(session, notice.reference) or agency
        statement = insert(DeliveryRow).values(
            notification_id=notification_id(event.event_id, notice.supporter_id),
            recipient_id=notice.supporter_id,
            recipient_agency_id=agency,
            urgent=notice.urgent,
            status=Status.PENDING,
            **common,
        )
        await session.execute(statement.on_conflict_do_nothing())


async def supporter_agency(session: AsyncSession, assignment_id: object) -> str | None:
    """The supporter's own agency, as the assignment's notification recorded it: a
    supporter from the regional pool belongs to another agency than the officer."""
    return await session.scalar(
        select(DeliveryRow.recipient_agency_id)
        .where(DeliveryRow.kind == Kind.ASSIGNMENT, DeliveryRow.reference == str(assignment_id))
        .limit(1)
    )
