"""Acknowledgment deadlines: one durable timer per unacknowledged assignment, held by the
bus (`shared.timers`), as the check-ins' timers are.

The timer is a message on `ps.<agency>.deadline.timer.<assignment_id>` firing to
`ps.<agency>.deadline.fired`. There is one per assignment: moving the assignment sets
the next deadline on the same subject, which replaces the pending one, and the
acknowledgment stores a tombstone that cancels it. The fired payload names the move it
was set for, so a deadline that fires late, after the assignment moved or was taken,
finds it changed and does nothing (`reassigning`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from opentelemetry import propagate
from opentelemetry.context import Context
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import Delivery, Outgoing, Poison
from shared.ids import derived_event_id
from shared.subjects import ALL_AGENCIES, subject
from shared.timers import Timer, tombstone

from .assignment_store import MatchRow, Outcome

FIRED = subject(ALL_AGENCIES, "deadline", "fired")


class Fired(BaseModel):
    """A deadline's payload, as it arrives when it fires."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    agency_id: str
    assignment_id: uuid.UUID
    move: int = Field(ge=0)


def _timer_subject(agency_id: str, assignment_id: str) -> str:
    return subject(agency_id, "deadline", "timer", assignment_id)


def setting(
    agency_id: str, assignment_id: str, move: int, fire_at: datetime, trace: Context | None
) -> tuple[uuid.UUID, Outgoing]:
    """The deadline of the assignment's `move`-th supporter, to stage in the outbox. It
    carries the trace of what set it, so what it causes continues the incident's trace."""
    headers: dict[str, str] = {}
    propagate.inject(headers, context=trace)
    payload = Fired(agency_id=agency_id, assignment_id=assignment_id, move=move)
    timer = Timer(
        subject=_timer_subject(agency_id, assignment_id),
        fire_at=fire_at,
        target=subject(agency_id, "deadline", "fired"),
        payload=payload.model_dump_json().encode(),
        headers=headers,
    )
    return derived_event_id("deadline", assignment_id, move), timer.message()


def cancelling(agency_id: str, assignment_id: str, move: int) -> tuple[uuid.UUID, Outgoing]:
    """A tombstone for the deadline of the assignment's `move`, to stage in the outbox."""
    return (
        derived_event_id("deadline-cancelled", assignment_id, move),
        tombstone(_timer_subject(agency_id, assignment_id)),
    )


def fired_of(delivery: Delivery) -> Fired:
    """The fired deadline a delivery carries; its subject must name the same agency."""
    fired = Fired.model_validate_json(delivery.data)
    if delivery.subject.split(".")[1] != fired.agency_id:
        raise Poison("a deadline fired on another agency's subject")
    return fired


def fired_key(fired: Fired) -> str:
    return str(derived_event_id("deadline-fired", fired.assignment_id, fired.move))


async def pending(session: AsyncSession) -> int:
    """The deadlines pending: assignments with a deadline, not yet acknowledged, not
    closed or released and not with the coordinators (`peerline_timers_pending`,
    kind `acknowledgment`)."""
    return await session.scalar(
        select(func.count()).where(
            MatchRow.outcome == Outcome.ASSIGNED.value,
            MatchRow.acknowledge_by.is_not(None),
            MatchRow.acknowledged_at.is_(None),
            MatchRow.escalated_at.is_(None),
        )
    )
