"""The NATS intake path: reports on `ps.<agency>.intake.incident`.

The agency is the subject's, which NATS permissions tie to the agency's credentials.
Reports arrive in batches from the bus consumer: the valid ones go through the same
intake as HTTP, in the batch's transaction; each invalid one publishes
`IntakeRejected` naming the fields at fault and stores nothing else. Every report is
keyed by subject, stream sequence and payload hash, and a rejection's event id is
that key, so a redelivery neither writes nor publishes twice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox, subjects
from shared.bus import Delivery, Poison, Received
from shared.events import FieldError, IntakeRejected
from shared.ids import ExternalId, derived_event_id
from shared.problems import field_errors
from shared.service import ServiceRuntime
from shared.streams import INTAKE

from . import intake
from .domain import IncidentReport

DURABLE = "incidents-intake"


_EXTERNAL_ID = TypeAdapter(ExternalId)


@dataclass(frozen=True)
class BusReport:
    """A report from the bus, decoded: a valid report, or the errors that reject it."""

    key: str
    agency_id: str
    report: IncidentReport | None
    errors: list[dict]
    external_id: str | None = None


def _external_id(body: object) -> str | None:
    """The report's reference, if it is a valid one, to name in `IntakeRejected`."""
    try:
        return _EXTERNAL_ID.validate_python(body.get("external_id"), strict=True)
    except (AttributeError, ValidationError):  # not an object, or no valid reference
        return None


def decode(delivery: Delivery) -> BusReport:
    try:
        agency_id = subjects.parse(delivery.subject).agency_id
    except ValueError:
        raise Poison("subject is not ps.<agency>.intake.incident") from None
    digest = hashlib.sha256(delivery.data).hexdigest()
    key = str(derived_event_id("intake", delivery.subject, delivery.stream_seq, digest))
    body: object = None
    try:
        body = json.loads(delivery.data)
        report = IncidentReport.model_validate(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        errors = [{"loc": [], "msg": "body is not valid JSON"}]
    except ValidationError as exc:
        errors = field_errors(exc.errors(include_input=False))
    else:
        if report.agency_id is None or report.agency_id == agency_id:
            return BusReport(key, agency_id, report, [])
        errors = [{"loc": ["agency_id"], "msg": "does not match the subject's agency"}]
    return BusReport(key, agency_id, None, errors, _external_id(body))


def register(runtime: ServiceRuntime) -> None:
    async def apply(session: AsyncSession, items: list[Received[BusReport]]) -> None:
        valid = [i for i in items if i.value.report is not None]
        results = await intake.apply_reports(
            session,
            [intake.Report(i.value.agency_id, i.value.report, "nats", i.trace) for i in valid],
            runtime.source,
        )
        rejections = [
            (
                IntakeRejected(
                    event_id=uuid.UUID(i.value.key),
                    agency_id=i.value.agency_id,
                    external_id=i.value.external_id,
                    errors=[FieldError(loc=e["loc"], msg=e["msg"]) for e in i.value.errors],
                ),
                i.trace,
            )
            for i in items
            if i.value.report is None
        ]
        await outbox.add_all(session, rejections, source=runtime.source)

        def counted(_session) -> None:
            intake.count("nats", results)
            intake.REPORTS.labels("nats", "rejected").inc(len(rejections))

        event.listen(session.sync_session, "after_commit", counted, once=True)

    runtime.consume(
        subject=subjects.intake_subject(subjects.ALL_AGENCIES),
        durable=DURABLE,
        stream=INTAKE,
        decode=decode,
        key=lambda report: report.key,
        apply=apply,
    )
