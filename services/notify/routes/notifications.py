"""Delivery status for operators and coordinators: what was sent, what waits and why,
what failed. Never a message body or a contact detail, which the service does not
keep; a coordinator sees only their agency's notifications (rule 11)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from shared.ids import AgencyId
from shared.routes import Runtime
from shared.vocab import NotificationChannel

from ..domain import Kind
from ..store import Hold, Status, deliveries
from .deps import PROBLEMS, OpsOrCoordinator, agency_seen

router = APIRouter(prefix="/v1", tags=["notifications"])


class NotificationView(BaseModel):
    notification_id: uuid.UUID
    cause_event_id: uuid.UUID
    agency_id: AgencyId
    kind: Kind
    reference: uuid.UUID
    recipient_id: str
    urgent: bool
    status: Status
    channel: NotificationChannel | None
    attempts: int
    next_attempt_at: datetime | None
    held_for: Hold | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


@router.get(
    "/notifications",
    response_model=list[NotificationView],
    responses=PROBLEMS,
    summary="Delivery status of notifications, newest first (no message bodies)",
)
async def list_notifications(
    caller: OpsOrCoordinator,
    rt: Runtime,
    status: Status | None = None,
    agency: AgencyId | None = Query(
        default=None, description="Only this agency's (a coordinator: their own only)."
    ),
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[NotificationView]:
    seen = agency_seen(caller, agency)
    async with rt.readers() as session:
        rows = await deliveries(session, seen, status, limit)
    return [
        NotificationView(
            notification_id=r.notification_id,
            cause_event_id=r.cause_event_id,
            agency_id=r.agency_id,
            kind=r.kind,
            reference=r.reference,
            recipient_id=r.recipient_id,
            urgent=r.urgent,
            status=r.status,
            channel=r.channel,
            attempts=r.attempts,
            next_attempt_at=r.next_attempt_at if r.status == Status.PENDING else None,
            held_for=r.held_for,
            last_error=r.last_error,
            created_at=r.created_at,
            sent_at=r.sent_at,
        )
        for r in rows
    ]
