"""The roster on the bus: incident events become assignments (see `assigning`)."""

from __future__ import annotations

from shared import subjects
from shared.service import ServiceRuntime
from shared.streams import EVENTS

from .assigning import Assigner

DURABLE = "roster-incidents"


def register(runtime: ServiceRuntime) -> None:
    # One durable for reported, updated and retracted, so they are applied in order.
    runtime.consume(
        subject=subjects.subject(subjects.ALL_AGENCIES, "incident", "*"),
        durable=DURABLE,
        stream=EVENTS,
        apply=Assigner(runtime.source).apply,
    )
