"""The check-ins service on the bus: assignments open care, moves give it to another
supporter, timers move offers on, and retractions and withdrawn requests cancel them
(see `care`); a periodic job purges care records past retention (see `retention`)."""

from __future__ import annotations

from shared.events import (
    AssignmentReassigned,
    IncidentRetracted,
    OfficerUpdated,
    PeerAssigned,
    ResourceUpdated,
    SupportRequestResolved,
)
from shared.service import ServiceRuntime
from shared.streams import CHECKINS, EVENTS

from . import resources, retention, timers
from .care import Care
from .officers import Officers

RETENTION_INTERVAL = 6 * 3600.0  # seconds: records are kept for days, purged within hours


def register(runtime: ServiceRuntime, care: Care, known: Officers) -> None:
    runtime.consume(
        subject=PeerAssigned.subject_pattern(),
        durable="checkins-assignments",
        stream=EVENTS,
        apply=care.assigned,
    )
    runtime.consume(
        subject=IncidentRetracted.subject_pattern(),
        durable="checkins-retractions",
        stream=EVENTS,
        apply=care.retracted,
    )
    runtime.consume(
        subject=AssignmentReassigned.subject_pattern(),
        durable="checkins-reassignments",
        stream=EVENTS,
        apply=care.reassigned,
    )
    runtime.consume(
        subject=SupportRequestResolved.subject_pattern(),
        durable="checkins-requests",
        stream=EVENTS,
        apply=care.resolved,
    )
    runtime.consume(
        subject=timers.FIRED,
        durable="checkins-timers",
        stream=CHECKINS,
        apply=care.fired,
        decode=timers.fired_of,
        key=timers.fired_key,
    )
    runtime.every("care-retention", RETENTION_INTERVAL, lambda: retention.purge(runtime))
    runtime.figures.timers_pending("checkin", timers.pending)
    runtime.consume(
        subject=OfficerUpdated.subject_pattern(),
        durable="checkins-officers",
        stream=EVENTS,
        apply=known.updated,
    )
    runtime.consume(
        subject=ResourceUpdated.subject_pattern(),
        durable="checkins-resources",
        stream=EVENTS,
        apply=resources.updated,
    )
