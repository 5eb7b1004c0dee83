"""The roster on the bus: incident events become assignments, and the end of an
assignment's care gives its supporter's slot back (see `assigning`); a contact that
closes an offer answers an assignment not yet acknowledged (`acknowledging`); a fired
acknowledgment deadline moves an assignment on (`moving`); a daily job reminds
supporters of training to renew (see `reminders`). The matching index's age and the
deadlines pending are on `/metrics` (`shared.figures`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shared import subjects
from shared.bus import Received
from shared.events import CheckInClosed
from shared.service import ServiceRuntime
from shared.streams import CHECKINS, DEADLINES, EVENTS

from . import acknowledging, deadlines, moving, reminders
from .assigning import INDEX_AGE, Assigner

DURABLE = "roster-incidents"
CARE_DURABLE = "roster-care"
DEADLINES_DURABLE = "roster-deadlines"
DEADLINE_BATCH = 16  # fired deadlines per transaction
REMINDER_INTERVAL = 6 * 3600.0  # seconds: a reminder is due on a day, not a minute
INDEX_INTERVAL = 15.0  # seconds between checks that the matching index is current


def register(runtime: ServiceRuntime) -> Assigner:
    """Wire the consumers and jobs; the assigner is returned for the routes that match
    (an officer's request, a coordinator giving a waiting assignment)."""
    assigner = Assigner(
        runtime.source, match_within=timedelta(days=runtime.settings.roster_match_within_days)
    )

    async def care(session: AsyncSession, items: list[Received[CheckInClosed]]) -> None:
        await acknowledging.reached(session, items, source=runtime.source, clock=assigner.clock)
        await assigner.end_care(session, items)

    async def deadlines_passed(session: AsyncSession, items) -> None:
        await moving.deadlines_passed(assigner, session, items)

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
        apply=care,
    )
    runtime.consume(
        subject=deadlines.FIRED,
        durable=DEADLINES_DURABLE,
        stream=DEADLINES,
        apply=deadlines_passed,
        decode=deadlines.fired_of,
        key=deadlines.fired_key,
        # Small batches: each holds the matching lock and the database's writer, which
        # an officer's request waits for (bench/requests.py: a burst of 1,000 deadlines
        # in batches of 256 kept requests waiting seconds).
        max_batch=DEADLINE_BATCH,
    )
    runtime.every("matching-index", INDEX_INTERVAL, lambda: assigner.prepare(runtime.readers))
    INDEX_AGE.set_function(assigner.index_age)
    runtime.figures.timers_pending("acknowledgment", deadlines.pending)
    runtime.every("training-reminders", REMINDER_INTERVAL, lambda: reminders.remind(runtime))
    return assigner
