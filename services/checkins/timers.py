"""The check-in timers: three per offer, held by the bus (`shared.timers`).

- `due` at the offer's due time: the supporter is prompted (`CheckInDue`);
- `close` at its window's close: still open means overdue (`CheckInOverdue`);
- `expire` when the next offer falls due (or a grace after the last one's window): still
  open means it expired, and the next offer is planned.

Each timer is a message on `ps.<agency>.checkin.timer.<checkin_id>.<kind>` firing to
`ps.<agency>.checkin.fired.<kind>`. Timers are set and cancelled through the outbox, in
the transaction that decided them (`care` stages what these functions give): setting
stores the schedule, cancelling stores a tombstone on the timer's subject that replaces
the pending schedule (`Nats-Rollup: sub`) and leaves the stream a minute later. A timer
that fires anyway (cancelled too late) finds its check-in closed and does nothing.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from opentelemetry import propagate
from opentelemetry.context import Context
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import Delivery, Outgoing, Poison
from shared.ids import derived_event_id
from shared.subjects import ALL_AGENCIES, subject
from shared.timers import Timer, tombstone

from .domain import OPEN
from .store import CheckInRow


class Kind(enum.StrEnum):
    DUE = "due"
    CLOSE = "close"
    EXPIRE = "expire"


class Fired(BaseModel):
    """A timer's payload, as it arrives when it fires."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    agency_id: str
    checkin_id: uuid.UUID
    kind: Kind


FIRED = subject(ALL_AGENCIES, "checkin", "fired", "*")


def _timer_subject(agency_id: str, checkin_id: str, kind: Kind) -> str:
    return subject(agency_id, "checkin", "timer", checkin_id, kind)


Staged = list[tuple[uuid.UUID, Outgoing]]  # outbox key and message


def timer_messages(
    agency_id: str, checkin_id: str, at: dict[Kind, datetime], trace: Context | None = None
) -> Staged:
    """The check-in's timers, to stage in the outbox. They carry the trace context of
    what set them, so the offer's later events continue the incident's trace."""
    headers: dict[str, str] = {}
    propagate.inject(headers, context=trace)
    staged = []
    for kind, fire_at in at.items():
        payload = Fired(agency_id=agency_id, checkin_id=checkin_id, kind=kind)
        timer = Timer(
            subject=_timer_subject(agency_id, checkin_id, kind),
            fire_at=fire_at,
            target=subject(agency_id, "checkin", "fired", kind),
            payload=payload.model_dump_json().encode(),
            headers=headers,
        )
        staged.append(
            (derived_event_id("timer", checkin_id, kind, fire_at.isoformat()), timer.message())
        )
    return staged


def cancelling(agency_id: str, checkin_id: str) -> Staged:
    """Tombstones for every timer of the check-in, to stage in the outbox."""
    return [
        (
            derived_event_id("timer-cancelled", checkin_id, kind),
            tombstone(_timer_subject(agency_id, checkin_id, kind)),
        )
        for kind in Kind
    ]


def fired_of(delivery: Delivery) -> Fired:
    """The fired timer a delivery carries; its subject must name the same agency."""
    fired = Fired.model_validate_json(delivery.data)
    if delivery.subject.split(".")[1] != fired.agency_id:
        raise Poison("a timer fired on another agency's subject")
    return fired


def fired_key(fired: Fired) -> str:
    return str(derived_event_id("fired", fired.checkin_id, fired.kind))


async def pending(session: AsyncSession) -> int:
    """The check-ins whose timers are pending: every open offer (scheduled, due or
    overdue) has at least its `expire` timer set (`peerline_timers_pending`, kind
    `checkin`)."""
    return await session.scalar(
        select(func.count()).where(CheckInRow.status.in_([s.value for s in OPEN]))
    )
