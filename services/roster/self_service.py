"""A supporter's own changes of their availability: go on call for some hours from
now, come off call, take leave, cancel leave.

Each change is a change of their supporter record, made by the one write behind
`PUT /v1/supporters/{supporter_id}` (`write_supporter`), so it publishes
`SupporterUpdated` through the outbox and raises the directories' revision exactly as
a coordinator's change would, and matching sees it at once. Periods that have ended
are dropped from the list a change touches, so the lists stay short.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.errors import Invalid

from . import revision
from .personal import Personal, Sealer
from .store import SupporterRow
from .supporters import (
    MAX_PERIODS,
    AvailabilityRecord,
    Span,
    live_supporter,
    record_of,
    write_supporter,
)

# A change of the availability at a time: the new one, or None when nothing would change.
Change = Callable[[AvailabilityRecord, datetime], AvailabilityRecord | None]


def now() -> datetime:
    """Now, to the second: periods written from it read back as they were sent."""
    return datetime.now(UTC).replace(microsecond=0)


async def change_availability(
    session: AsyncSession,
    caller: Principal,
    sealer: Sealer,
    change: Change,
    at: datetime,
    *,
    source: str,
) -> tuple[SupporterRow, Personal]:
    """Apply `change` at `at` to the calling supporter's availability through
    `write_supporter`, and stage its `SupporterUpdated` with a new revision, as
    `PUT /v1/supporters/{id}` does; their row and opened personal details."""
    row = await live_supporter(session, caller, caller.sub)
    personal = sealer.open(row.supporter_id, row.personal)
    record = record_of(row, personal)
    availability = change(record.availability, at)
    if availability is not None:
        record = record.model_copy(update={"availability": availability})
        row, written = await write_supporter(
            session, caller, caller.sub, record, sealer, stored=row
        )
        if written.event is not None:
            await revision.changed(session, written.event, source=source)
    return row, personal


def _current(span: Span, at: datetime) -> bool:
    return span.start <= at < span.end


def _upcoming(spans: list[Span], at: datetime) -> list[Span]:
    """The periods still to come: one that is current ends now, and ended ones go."""
    return [span for span in spans if span.start > at]


def _with(spans: list[Span], added: Span, field: str) -> list[Span]:
    if len(spans) >= MAX_PERIODS:
        raise Invalid(field, f"at most {MAX_PERIODS} periods; cancel some first")
    return [*spans, added]


def go_on_call(hours: int) -> Change:
    """On call from now for `hours`, replacing any current on-call period."""

    def change(availability: AvailabilityRecord, at: datetime) -> AvailabilityRecord:
        shift = Span(start=at, end=at + timedelta(hours=hours))
        on_call = _with(_upcoming(availability.on_call, at), shift, "on_call")
        return availability.model_copy(update={"on_call": on_call})

    return change


def come_off_call(availability: AvailabilityRecord, at: datetime) -> AvailabilityRecord | None:
    """Any current on-call period ends now."""
    if not any(_current(span, at) for span in availability.on_call):
        return None  # off call already
    return availability.model_copy(update={"on_call": _upcoming(availability.on_call, at)})


def take_leave(span: Span) -> Change:
    """Leave from `span.start` to `span.end`, which must be still to come."""

    def change(availability: AvailabilityRecord, at: datetime) -> AvailabilityRecord:
        if span.end <= at:
            raise Invalid("end", "leave that is over changes nothing; end must be in the future")
        leave = [kept for kept in availability.leave if kept.end > at]
        return availability.model_copy(update={"leave": _with(leave, span, "leave")})

    return change


def cancel_leave(availability: AvailabilityRecord, at: datetime) -> AvailabilityRecord | None:
    """Every current and future leave cancelled."""
    if not any(span.end > at for span in availability.leave):
        return None  # no leave to cancel
    return availability.model_copy(update={"leave": []})
