"""Reporting over NATS on `ps.<agency>.intake.incident`: valid reports become incidents,
invalid ones `IntakeRejected`, and nothing invalid is stored."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import httpx
import nats
from nats.aio.msg import Msg

from services.incidents.app import create_app
from services.incidents.subscribers import DURABLE
from shared.events import IncidentReported, IntakeRejected
from shared.ids import incident_id_for
from shared.streams import EVENTS, INTAKE, provision
from shared.tokens import Role
from tests.conftest import bearer
from tests.support.bus import EventLog
from tests.support.reports import report
from tests.support.running import incidents_settings, on_the_bus
from tests.support.waiting import await_until


async def publish(nats_url: str, subject: str, payload: bytes) -> None:
    nc = await nats.connect(nats_url)
    try:
        ack = await nc.jetstream().publish(subject, payload, timeout=5)
        assert ack.stream == "PEERLINE_INTAKE"
    finally:
        await nc.close()


async def test_a_report_on_the_bus_becomes_incident_reported(incidents, agency):
    body = report()
    body["narrative"] = "free text that must go nowhere"
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        await publish(incidents.nats_url, f"ps.{agency}.intake.incident", json.dumps(body).encode())
        [event] = await log.wait_for(IncidentReported)
    assert event.incident_id == incident_id_for(agency, "24-000123")
    assert "narrative" not in json.dumps(log.raw[0][2])


async def test_an_invalid_report_is_rejected_and_nothing_is_stored(incidents, agency):
    bad = report(occurred_at="yesterday", involved=[{"personnel_id": "B 1", "role": "primary"}])
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        await publish(incidents.nats_url, f"ps.{agency}.intake.incident", json.dumps(bad).encode())
        await publish(incidents.nats_url, f"ps.{agency}.intake.incident", b"{not json")
        rejected = await log.wait_for(IntakeRejected, count=2)
    first, second = rejected
    assert first.subject == f"ps.{agency}.intake.rejected"
    assert first.external_id == "24-000123"
    assert {tuple(e.loc) for e in first.errors} == {
        ("occurred_at",),
        ("involved", 0, "personnel_id"),
    }
    assert "yesterday" not in json.dumps(log.raw[0][2])
    assert second.external_id is None and second.errors[0].msg == "body is not valid JSON"
    async with httpx.AsyncClient() as client:
        view = await client.get(
            f"{incidents.url}/v1/incidents/{incident_id_for(agency, '24-000123')}",
            headers=bearer(agency, Role.COORDINATOR),
        )
    assert view.status_code == 404


async def test_a_report_naming_another_agency_is_rejected(incidents, agency):
    body = json.dumps(report(agency_id="CA0190000")).encode()
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        await publish(incidents.nats_url, f"ps.{agency}.intake.incident", body)
        [rejected] = await log.wait_for(IntakeRejected)
    assert rejected.errors[0].loc == ["agency_id"]
    assert log.of_type(IncidentReported) == []


async def test_http_and_nats_reports_of_one_incident_are_one_incident(incidents, agency):
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{incidents.url}/v1/incidents", json=report(), headers=bearer(agency, Role.INGEST)
            )
        assert answer.json()["status"] == "accepted"
        await publish(
            incidents.nats_url, f"ps.{agency}.intake.incident", json.dumps(report()).encode()
        )
        marker = json.dumps(report("24-000999")).encode()
        await publish(incidents.nats_url, f"ps.{agency}.intake.incident", marker)
        events = await log.wait_for(IncidentReported, count=2)
    assert [e.external_id for e in events] == ["24-000123", "24-000999"]


async def test_a_redelivered_batch_neither_writes_nor_publishes_twice(
    nats_url, database_url, tmp_path, agency, monkeypatch
):
    """Intake killed after its commit, before its acks: the redelivery finds the inbox
    marks, so one incident and one rejection, each published once."""
    settings = incidents_settings(nats_url, database_url, tmp_path)
    first = create_app(settings).state.runtime
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    config = first.consumers[0]._config  # the durable as intake makes it, redelivering fast
    await js.add_consumer(INTAKE.name, replace(config, ack_wait=1.0))
    subject = f"ps.{agency}.intake.incident"
    await publish(nats_url, subject, json.dumps(report()).encode())
    await publish(nats_url, subject, b"{not json")

    async def never(_msg) -> None:
        await asyncio.Event().wait()

    async with EventLog(nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        with monkeypatch.context() as patched:
            patched.setattr(Msg, "ack", never)
            async with on_the_bus(first):
                await log.wait_for(IncidentReported)
                await log.wait_for(IntakeRejected)
        async with on_the_bus(create_app(settings).state.runtime):

            async def redelivered_and_settled() -> bool:
                info = await js.consumer_info(INTAKE.name, DURABLE)
                return info.delivered.consumer_seq >= 4 and info.num_ack_pending == 0

            await await_until(redelivered_and_settled, timeout=30, what="redelivery")
    stored = await js.stream_info(EVENTS.name, subjects_filter=f"ps.{agency}.>")
    assert stored.state.subjects == {
        f"ps.{agency}.incident.reported": 1,
        f"ps.{agency}.intake.rejected": 1,
    }
    await nc.close()
