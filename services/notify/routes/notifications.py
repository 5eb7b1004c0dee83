"""Delivery status for operators and coordinators: what was sent, what waits and why,
what failed. Never a message body or a contact detail, which the service does not
keep; a coordinator sees only their agency's notifications (rule 11), and of a supporter
of another agency only the status (decision 64)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shared.ids import AgencyId
from shared.routes import Runtime
from shared.vocab import NotificationChannel

from ..domain import Kind, shows_delivery_details
from ..store import DeliveryRow, Hold, Status, deliveries
from .deps import PROBLEMS, OpsOrCoordinator, agency_seen

router = APIRouter(prefix="/v1", tags=["notifications"])


class NotificationView(BaseModel):
    notification_id: uuid.UUID
    cause_event_id: uuid.UUID
    agency_id: AgencyId
    kind: Kind
    reference: uuid.UUID
    recipient_id: str
    recipient_agency_id: AgencyId = Field(
        description="The recipient's own agency. For a supporter of another agency a "
        "coordinator sees only the status: channel, attempts, hold and error are null."
    )
    urgent: bool
    status: Status
    channel: NotificationChannel | None
    attempts: int | None
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
    return [_view(r, shows_delivery_details(caller, r.recipient_agency_id)) for r in rows]


def _view(row: DeliveryRow, details: bool) -> NotificationView:
    pending = row.status == Status.PENDING
    return NotificationView(
        notification_id=row.notification_id,
        cause_event_id=row.cause_event_id,
        agency_id=row.agency_id,
        kind=row.kind,
        reference=row.reference,
        recipient_id=row.recipient_id,
        recipient_agency_id=row.recipient_agency_id,
        urgent=row.urgent,
        status=row.status,
        channel=row.channel if details else None,
        attempts=row.attempts if details else None,
        next_attempt_at=row.next_attempt_at if details and pending else None,
        held_for=row.held_for if details else None,
        last_error=row.last_error if details else None,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )
