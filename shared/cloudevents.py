"""CloudEvents 1.0 headers (NATS protocol binding, binary mode) on publish and consume.

`ce-id` equals the payload's `event_id` and `Nats-Msg-Id`, so the bus drops a repeat of
the same event within the stream's duplicate window. `traceparent` carries the trace
from a CAD's report to a PSO's notification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from opentelemetry import propagate
from opentelemetry.context import Context

from shared.events import EVENTS_BY_TYPE, Event

SPECVERSION = "1.0"
MSG_ID = "Nats-Msg-Id"


@dataclass(frozen=True)
class CloudEventMeta:
    id: str
    source: str
    type: str
    time: str
    agency_id: str


def encode(
    event: Event, *, source: str, trace: Context | None = None
) -> tuple[bytes, dict[str, str]]:
    """Payload and headers for publishing `event`, with the trace context it belongs to
    (the current one unless given)."""
    event_id = str(event.event_id)
    headers = {
        "ce-specversion": SPECVERSION,
        "ce-id": event_id,
        "ce-source": source,
        "ce-type": event.ce_type(),
        "ce-time": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "ce-agencyid": event.agency_id,
        "Content-Type": "application/json",
        MSG_ID: event_id,
    }
    propagate.inject(headers, context=trace)
    return event.model_dump_json().encode(), headers


def meta(headers: dict[str, str] | None) -> CloudEventMeta:
    """The CloudEvents attributes of a message; ValueError if any required one is missing."""
    headers = headers or {}
    try:
        if headers["ce-specversion"] != SPECVERSION:
            raise ValueError("unsupported CloudEvents specversion")
        return CloudEventMeta(
            id=headers["ce-id"],
            source=headers["ce-source"],
            type=headers["ce-type"],
            time=headers["ce-time"],
            agency_id=headers["ce-agencyid"],
        )
    except KeyError as exc:
        raise ValueError(f"missing CloudEvents header {exc.args[0]}") from None


def decode(headers: dict[str, str] | None, payload: bytes) -> Event:
    """The event model a message carries, chosen by its `ce-type`."""
    ce = meta(headers)
    cls = EVENTS_BY_TYPE.get(ce.type)
    if cls is None:
        raise ValueError("unknown ce-type")
    event = cls.model_validate_json(payload)
    if str(event.event_id) != ce.id or event.agency_id != ce.agency_id:
        raise ValueError("CloudEvents headers do not match the payload")
    return event
