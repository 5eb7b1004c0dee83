"""The notify service on the bus: one durable per trigger event records deliveries in
the ledger (`ledger`), a periodic job sends them (`delivery`), another forgets them
once finished and old (`retention`), a third reads how many wait for `/metrics`
(`figures`).

The durables start with the messages that arrive once they exist (`DeliverPolicy.NEW`):
a notify service deployed into a running region must not replay months of assignments
and reminders to people's phones (decision 28).
"""

from __future__ import annotations

from nats.js.api import DeliverPolicy

from shared.events import (
    AssignmentEscalated,
    AssignmentReassigned,
    AssignmentUnfilled,
    CheckInDue,
    CheckInOverdue,
    PeerAssigned,
    TrainingExpiring,
)
from shared.service import ServiceRuntime
from shared.streams import CHECKINS, EVENTS

from . import figures, ledger, retention
from .delivery import Deliveries

TRIGGERS = (
    (PeerAssigned, EVENTS, "notify-assignments"),
    (AssignmentUnfilled, EVENTS, "notify-unfilled"),
    (AssignmentReassigned, EVENTS, "notify-reassignments"),
    (AssignmentEscalated, EVENTS, "notify-escalations"),
    (CheckInDue, CHECKINS, "notify-checkins-due"),
    (CheckInOverdue, CHECKINS, "notify-checkins-overdue"),
    (TrainingExpiring, EVENTS, "notify-training"),
)


def register(runtime: ServiceRuntime, deliveries: Deliveries) -> None:
    # The worker runs as soon as a trigger's deliveries are recorded; the poll is the
    # fallback (a retry or a hold coming due, a replica's recorded work).
    delivering = runtime.every("deliveries", runtime.settings.notify_poll_interval, deliveries.run)
    for event, stream, durable in TRIGGERS:
        runtime.consume(
            subject=event.subject_pattern(),
            durable=durable,
            stream=stream,
            apply=ledger.record,
            deliver_policy=DeliverPolicy.NEW,
            committed=delivering.wake,
        )
    runtime.every("notification-retention", retention.INTERVAL, lambda: retention.purge(runtime))
    runtime.every(
        "notification-figures", runtime.settings.figures_interval, lambda: figures.sample(runtime)
    )
