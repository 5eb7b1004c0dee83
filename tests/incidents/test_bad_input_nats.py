"""Whatever an agency publishes on its intake subject, each message ends as an incident
or an `IntakeRejected`: none loops, none is dead-lettered, none is left pending."""

from __future__ import annotations

import asyncio
import json
import uuid

import nats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.incidents.domain import IncidentReport
from services.incidents.subscribers import DURABLE
from shared.events import IntakeRejected
from shared.streams import DLQ, EVENTS, INTAKE
from tests.support.bus import EventLog
from tests.support.reports import json_values, near_valid
from tests.support.waiting import await_until

valid = st.fixed_dictionaries(
    {
        "external_id": st.from_regex(r"\A[A-Z0-9-]{1,12}\Z"),
        "source_type": st.sampled_from(["SHOOT", "MCI", "TRAFFIC", "hostage"]),
        "occurred_at": st.sampled_from(["2026-11-25T22:14:00-06:00", "2026-01-01T00:00:00Z"]),
        "involved": st.lists(
            st.fixed_dictionaries(
                {
                    "personnel_id": st.from_regex(r"\A[A-Z][0-9]{1,5}\Z"),
                    "role": st.sampled_from(["primary", "witness", "dispatcher"]),
                }
            ),
            max_size=4,
            unique_by=lambda o: o["personnel_id"],
        ),
    },
    optional={"narrative": st.text(max_size=30), "agency_id": st.just("CA0190000")},
)
bodies = (valid | near_valid | json_values).map(lambda b: json.dumps(b).encode()) | st.binary(
    max_size=200
)


def _invalid(payload: bytes, agency: str) -> bool:
    try:
        report = IncidentReport.model_validate(json.loads(payload))
    except (ValueError, ValidationError):  # JSON errors are ValueErrors too
        return True
    return report.agency_id is not None and report.agency_id != agency


async def _publish_and_settle(nats_url: str, payloads: list[bytes]) -> None:
    agency = "H" + uuid.uuid4().hex[:10].upper()
    async with EventLog(nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        for payload in payloads:
            await js.publish(f"ps.{agency}.intake.incident", payload)

        async def drained() -> bool:
            info = await js.consumer_info(INTAKE.name, DURABLE)
            return info.num_pending == 0 and info.num_ack_pending == 0

        await await_until(drained, timeout=30, what="intake drained")
        expected = sum(_invalid(p, agency) for p in payloads)
        await log.wait_for(IntakeRejected, count=expected, timeout=30)
        assert len(log.of_type(IntakeRejected)) == expected
        assert (await js.stream_info(DLQ.name)).state.messages == 0
        await nc.close()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(payloads=st.lists(bodies, min_size=1, max_size=30))
def test_every_published_report_settles_without_dead_letters(incidents, payloads):
    asyncio.run(_publish_and_settle(incidents.nats_url, payloads))
