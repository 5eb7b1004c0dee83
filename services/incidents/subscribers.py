"""The NATS intake path: reports on `ps.<agency>.intake.incident`.

The agency is the subject's, which NATS permissions tie to the agency's credentials.
A valid report goes through the same intake as HTTP; an invalid one publishes
`IntakeRejected` naming the fields at fault and stores nothing.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import TypeAdapter, ValidationError

from shared import subjects
from shared.bus import Delivery, Poison
from shared.ids import ExternalId, derived_event_id
from shared.problems import field_errors
from shared.service import ServiceRuntime
from shared.streams import INTAKE

from . import intake
from .domain import IncidentReport

DURABLE = "incidents-intake"


_EXTERNAL_ID = TypeAdapter(ExternalId)


def _external_id(body: object) -> str | None:
    """The report's reference, if it is a valid one, to name in `IntakeRejected`."""
    try:
        return _EXTERNAL_ID.validate_python(body.get("external_id"), strict=True)
    except (AttributeError, ValidationError):  # not an object, or no valid reference
        return None


def register(runtime: ServiceRuntime, writer: intake.IntakeWriter) -> None:
    async def on_report(delivery: Delivery) -> None:
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
                await writer.submit(agency_id, report, via="nats", inbox_key=key)
                return
            errors = [{"loc": ["agency_id"], "msg": "does not match the subject's agency"}]
        await intake.reject(runtime, agency_id, _external_id(body), errors, inbox_key=key)

    runtime.subscribe(
        subject=subjects.intake_subject(subjects.ALL_AGENCIES),
        durable=DURABLE,
        stream=INTAKE,
        handler=on_report,
    )
