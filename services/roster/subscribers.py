"""The roster on the bus: incident events become assignments, and the end of an
assignment's care gives its supporter's slot back (see `assigning`); a daily job reminds
supporters of training to renew (see `reminders`)."""

from __future__ import annotations

from shared import subjects
from shared.events import CheckInClosed
from shared.service import ServiceRuntime
from shared.streams import CHECKINS, EVENTS

from . import reminders
from .assigning import Assigner

DURABLE = "roster-incidents"
CARE_DURABLE = "roster-care"
REMINDER_INTERVAL = 6 * 3600.0  # seconds: a reminder is due on a day, not a minute
INDEX_INTERVAL = 15.0  # seconds between checks that the matching index is current


def register(runtime: ServiceRuntime) -> None:
    assigner = Assigner(runtime.source)
    # One durable for reported, updated and retracted, so they are applied in order.
    runtime.consume(
        subject=subjects.subject(subjects.ALL_AGENCIES, "incident", "*"),
        durable=DURABLE,
        stream=EVENTS,
        apply=assigner.apply,
    )
    runtime.consume(
        subject=CheckInClosed.subject_pattern(),
        durable=CARE_DURABLE,
        stream=CHECKINS,
        apply=assigner.end_care,
    )
    runtime.every("matching-index", INDEX_INTERVAL, lambda: assigner.prepare(runtime.readers))
    runtime.every("training-reminders", REMINDER_INTERVAL, lambda: reminders.remind(runtime))
