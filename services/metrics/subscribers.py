"""The metrics service on the bus: one durable over Peerline's events (the ones it does
not count are skipped), two over the check-in subjects it needs (never the timers).
Every durable starts at the beginning of its stream, so a new deployment backfills what
the streams still hold. A periodic job closes quarters (see `closing`)."""

from __future__ import annotations

from nats.js.api import DeliverPolicy

from shared.events import CheckInClosed, CheckInScheduled
from shared.service import ServiceRuntime
from shared.streams import CHECKINS, EVENTS
from shared.subjects import EVERYTHING

from . import aggregation, closing

CLOSING_INTERVAL = 6 * 3600.0  # seconds: quarters close after weeks of grace


def register(runtime: ServiceRuntime) -> None:
    runtime.consume(
        subject=EVERYTHING,
        durable="metrics-events",
        stream=EVENTS,
        apply=aggregation.apply_events,
        deliver_policy=DeliverPolicy.ALL,
    )
    runtime.consume(
        subject=CheckInScheduled.subject_pattern(),
        durable="metrics-checkins-scheduled",
        stream=CHECKINS,
        apply=aggregation.apply_scheduled,
        deliver_policy=DeliverPolicy.ALL,
    )
    runtime.consume(
        subject=CheckInClosed.subject_pattern(),
        durable="metrics-checkins-closed",
        stream=CHECKINS,
        apply=aggregation.apply_closed,
        deliver_policy=DeliverPolicy.ALL,
    )
    runtime.every("metrics-closing", CLOSING_INTERVAL, lambda: closing.close_quarters(runtime))
