"""Notify scenarios: recipients kept in the real roster, trigger events published as
their services publish them, notify replicas on the bus, its status read over HTTP."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import nats
from fastapi import FastAPI

from services.notify.app import create_app
from shared import bus, cloudevents
from shared.events import (
    AssignmentEscalated,
    AssignmentReassigned,
    AssignmentUnfilled,
    CheckInDue,
    CheckInOverdue,
    PeerAssigned,
    TrainingExpiring,
)
from shared.settings import Settings
from shared.tokens import Role
from shared.vocab import (
    AssignmentReason,
    Category,
    EscalationReason,
    ReassignReason,
    TrainingArea,
    UnfilledReason,
)
from tests.conftest import JWT_SECRET, bearer
from tests.support.events import peer_assigned
from tests.support.running import LOOPBACK_ALLOWED, on_the_bus

# The officer and the incident: none of this may reach a message.
OFFICER = "B7731-CANARY"
OFFICER_NAME = "Officer Canary Quill"
CATEGORY = Category.OFFICER_INVOLVED_SHOOTING
EXTERNAL_ID = "CAD-24-CANARY-991"


def notify_settings(
    nats_url: str, database_url: str, data_dir: Path, roster_url: str, **more
) -> Settings:
    """Notify with retries in fractions of a second instead of minutes."""
    fast = {"notify_retry_base": 0.2, "notify_retry_max": 2.0, "notify_poll_interval": 0.1}
    return Settings(
        service="notify",
        nats_url=nats_url,
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        data_dir=data_dir,
        roster_url=roster_url,
        portal_url="https://peerline.example.org",
        notify_allowed_networks=LOOPBACK_ALLOWED,
        **(fast | more),
    )


@contextlib.asynccontextmanager
async def running(settings: Settings, replicas: int = 1) -> AsyncIterator[list[FastAPI]]:
    """`replicas` notify processes' worth of apps on one database and the same durables,
    each with its workers and consumers, until all are bound to the bus."""
    apps = [create_app(settings) for _ in range(replicas)]
    async with contextlib.AsyncExitStack() as stack:
        for app in apps:
            await stack.enter_async_context(on_the_bus(app.state.runtime))
        yield apps


async def status(app: FastAPI, caller: str, role: Role = Role.COORDINATOR, **params) -> list:
    """The notifications a token of `role` for the agency `caller` is shown."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://notify", headers=bearer(caller, role)
    ) as client:
        answer = await client.get("/v1/notifications", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


# The roster's records.


async def add_supporter(roster, agency: str, supporter_id: str, contact: dict, **fields) -> None:
    body = {
        "agency_id": agency,
        "personnel_id": f"P-{supporter_id}",
        "display_name": "Dana Supporter",
        "contact": contact,
        "availability": {"timezone": fields.pop("timezone", "UTC")},
        **fields,
    }
    async with httpx.AsyncClient(
        base_url=roster.url, headers=bearer(agency, Role.COORDINATOR)
    ) as client:
        answer = await client.put(f"/v1/supporters/{supporter_id}", json=body)
    assert answer.status_code in (200, 201), answer.text


async def add_coordinator(roster, agency: str, coordinator_id: str, contact: dict, **fields):
    body = {"agency_id": agency, "display_name": "Jo Coordinator", "contact": contact, **fields}
    async with httpx.AsyncClient(
        base_url=roster.url, headers=bearer(agency, Role.COORDINATOR)
    ) as client:
        answer = await client.put(f"/v1/coordinators/{coordinator_id}", json=body)
    assert answer.status_code in (200, 201), answer.text


def quiet_now(zone: str) -> tuple[dict, datetime]:
    """Quiet hours in `zone` that hold right now, and when they end (in two hours)."""
    now = datetime.now(ZoneInfo(zone)).replace(second=0, microsecond=0)
    start, end = now - timedelta(hours=1), now + timedelta(hours=2)
    return {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}, end


# Trigger events, as roster and check-ins publish them.


def assigned(agency: str, supporter_id: str, category: Category = CATEGORY) -> PeerAssigned:
    return peer_assigned(
        agency,
        personnel_id=OFFICER,
        supporter_id=supporter_id,
        category=category,
        occurred_at=datetime.now(UTC) - timedelta(hours=1),
        reasons=[AssignmentReason.SPECIALTY_MATCH],
    )


def requested(agency: str, supporter_id: str) -> PeerAssigned:
    """An officer's request for a peer, assigned as the roster assigns one: no incident
    category, to be acknowledged within ten minutes."""
    return peer_assigned(
        agency,
        personnel_id=OFFICER,
        supporter_id=supporter_id,
        reasons=[AssignmentReason.OFFICER_REQUEST, AssignmentReason.AVAILABLE_NOW],
    ).model_copy(
        update={"category": None, "acknowledge_by": datetime.now(UTC) + timedelta(minutes=10)}
    )


def to_acknowledge(event: PeerAssigned, within: timedelta = timedelta(hours=4)) -> PeerAssigned:
    """`event` with the acknowledgment deadline the roster gives a CAD assignment."""
    return event.model_copy(update={"acknowledge_by": datetime.now(UTC) + within})


def reassigned(
    agency: str,
    supporter_id: str,
    *,
    for_request: bool = False,
    assignment_id: uuid.UUID | None = None,
    previous: str = "S-BEFORE",
    supporter_agency_id: str | None = None,
) -> AssignmentReassigned:
    """The assignment moved to `supporter_id`, its first supporter `previous` silent."""
    within = timedelta(minutes=10) if for_request else timedelta(hours=4)
    return AssignmentReassigned(
        agency_id=agency,
        assignment_id=assignment_id or uuid.uuid4(),
        previous_supporter_id=previous,
        supporter_id=supporter_id,
        supporter_agency_id=supporter_agency_id or agency,
        reason=ReassignReason.NOT_ACKNOWLEDGED,
        move=1,
        for_request=for_request,
        acknowledge_by=datetime.now(UTC) + within,
    )


def escalated(
    agency: str, *, for_request: bool = False, assignment_id: uuid.UUID | None = None
) -> AssignmentEscalated:
    return AssignmentEscalated(
        agency_id=agency,
        assignment_id=assignment_id or uuid.uuid4(),
        reason=EscalationReason.MOVES_EXHAUSTED,
        moves=2,
        for_request=for_request,
    )


def due(agency: str, supporter_id: str, assignment_id: uuid.UUID | None = None) -> CheckInDue:
    return CheckInDue(
        agency_id=agency,
        checkin_id=uuid.uuid4(),
        assignment_id=assignment_id or uuid.uuid4(),
        supporter_id=supporter_id,
    )


def overdue(agency: str, supporter_id: str) -> CheckInOverdue:
    return CheckInOverdue(
        agency_id=agency,
        checkin_id=uuid.uuid4(),
        assignment_id=uuid.uuid4(),
        supporter_id=supporter_id,
    )


def unfilled(agency: str) -> AssignmentUnfilled:
    return AssignmentUnfilled(
        agency_id=agency,
        incident_id=uuid.uuid4(),
        personnel_id=OFFICER,
        reason=UnfilledReason.NO_ELIGIBLE_SUPPORTER,
    )


def training(agency: str, supporter_id: str) -> TrainingExpiring:
    return TrainingExpiring(
        agency_id=agency,
        supporter_id=supporter_id,
        area=TrainingArea.ACTIVE_LISTENING,
        expires_on=date.today() + timedelta(days=20),
    )


async def redeliver(nats_url: str, event) -> None:
    """Store `event` in its stream once more under another `Nats-Msg-Id`, as a replay
    would: the consumer gets the same event id again."""
    nc = await nats.connect(nats_url)
    try:
        payload, headers = cloudevents.encode(event, source="peerline/tests")
        headers[cloudevents.MSG_ID] = str(uuid.uuid4())
        await bus.publish_raw(nc.jetstream(), event.subject, payload, headers, timeout=5)
    finally:
        await nc.close()
