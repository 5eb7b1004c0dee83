"""Reporting critical incidents over HTTP, as an agency's CAD does."""

from __future__ import annotations

import uuid

import httpx

from shared.events import (
    IncidentReported,
    IncidentRetracted,
    IncidentUpdated,
)
from shared.ids import incident_id_for
from shared.streams import EVENTS
from shared.tokens import Role
from tests.conftest import bearer
from tests.support.bus import EventLog
from tests.support.reports import report


async def post(client, url, agency, body, role=Role.INGEST):
    return await client.post(f"{url}/v1/incidents", json=body, headers=bearer(agency, role))


async def test_report_becomes_incident_reported_with_only_the_allowed_fields(incidents, agency):
    body = report()
    body["narrative"] = "Suspect Jane Roe fled towards the river"
    body["caller"] = {"name": "Sam Caller", "phone": "555-0100"}
    body["involved"][0]["name"] = "Officer Alex Doe"
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        async with httpx.AsyncClient() as client:
            answer = await post(client, incidents.url, agency, body)
        assert answer.status_code == 202
        assert answer.json() == {
            "incident_id": str(incident_id_for(agency, "24-000123")),
            "status": "accepted",
        }
        [event] = await log.wait_for(IncidentReported)

    assert event.subject == f"ps.{agency}.incident.reported"
    assert event.category == "officer_involved_shooting"
    assert [(i.personnel_id, i.role) for i in event.involved] == [
        ("B1234", "primary"),
        ("D-77", "dispatcher"),
    ]
    assert event.occurred_at.isoformat() == "2026-11-26T04:14:00+00:00"
    _subject, headers, payload = log.raw[0]
    assert headers["ce-type"] == "peerline.incident.reported.v1"
    assert headers["ce-id"] == headers["Nats-Msg-Id"] == payload["event_id"]
    assert headers["ce-agencyid"] == agency
    assert "traceparent" in headers
    wire = str(payload)
    for dropped in ("Jane Roe", "Sam Caller", "555-0100", "Alex Doe", "narrative"):
        assert dropped not in wire


async def test_the_same_report_again_is_a_duplicate_and_publishes_nothing(incidents, agency):
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        async with httpx.AsyncClient() as client:
            first = await post(client, incidents.url, agency, report())
            again = await post(client, incidents.url, agency, report())
            # A later incident's event proves the outbox has moved past the duplicate.
            later = await post(client, incidents.url, agency, report("24-000999"))
        assert [first.json()["status"], again.json()["status"], later.json()["status"]] == [
            "accepted",
            "duplicate",
            "accepted",
        ]
        assert again.json()["incident_id"] == first.json()["incident_id"]
        events = await log.wait_for(IncidentReported, count=2)
    assert [e.external_id for e in events] == ["24-000123", "24-000999"]


async def test_an_added_officer_is_an_update_with_the_full_list(incidents, agency):
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        async with httpx.AsyncClient() as client:
            await post(client, incidents.url, agency, report())
            snapshot = report(involved=[{"personnel_id": "C555", "role": "assisting"}])
            answer = await post(client, incidents.url, agency, snapshot)
        assert answer.json()["status"] == "updated", answer.text
        [update] = await log.wait_for(IncidentUpdated)
    assert update.incident_id == incident_id_for(agency, "24-000123")
    assert {i.personnel_id for i in update.involved} == {"B1234", "D-77", "C555"}


async def test_retraction_publishes_once_and_the_incident_stays_retracted(incidents, agency):
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        async with httpx.AsyncClient() as client:
            accepted = (await post(client, incidents.url, agency, report())).json()
            url = f"{incidents.url}/v1/incidents/{accepted['incident_id']}/retraction"
            headers = bearer(agency, Role.INGEST)
            first = await client.post(url, json={"reason": "entered_in_error"}, headers=headers)
            second = await client.post(url, json={"reason": "entered_in_error"}, headers=headers)
            replay = await post(client, incidents.url, agency, report())
            marker = await post(client, incidents.url, agency, report("24-000999"))
            view = await client.get(
                f"{incidents.url}/v1/incidents/{accepted['incident_id']}",
                headers=bearer(agency, Role.COORDINATOR),
            )
        assert first.status_code == second.status_code == 200
        assert replay.json()["status"] == "duplicate"
        assert marker.json()["status"] == "accepted"
        await log.wait_for(IncidentReported, count=2)
    [retracted] = log.of_type(IncidentRetracted)
    assert retracted.reason == "entered_in_error"
    assert view.json()["status"] == "retracted"


async def test_a_non_critical_type_is_ignored_and_nothing_is_kept(incidents, agency):
    async with httpx.AsyncClient() as client:
        answer = await post(client, incidents.url, agency, report(source_type="TRAFFIC"))
        assert answer.status_code == 202
        assert answer.json()["status"] == "ignored"
        view = await client.get(
            f"{incidents.url}/v1/incidents/{answer.json()['incident_id']}",
            headers=bearer(agency, Role.COORDINATOR),
        )
    assert view.status_code == 404


async def test_an_agency_maps_its_own_codes(incidents, agency):
    coordinator = bearer(agency, Role.COORDINATOR)
    async with httpx.AsyncClient() as client:
        put = await client.put(
            f"{incidents.url}/v1/source-types/10-50F",
            json={"category": "fatal_collision"},
            headers=coordinator,
        )
        assert put.status_code == 200
        off = await client.put(
            f"{incidents.url}/v1/source-types/death", json={"category": None}, headers=coordinator
        )
        assert off.json() == {"code": "DEATH", "category": None, "origin": "agency"}
        mapped = await post(client, incidents.url, agency, report("A", source_type="10-50f"))
        unmapped = await post(client, incidents.url, agency, report("B", source_type="DEATH"))
        elsewhere = await post(client, incidents.url, "OTHER01", report("C", source_type="10-50F"))
        listing = await client.get(f"{incidents.url}/v1/source-types", headers=coordinator)
    assert mapped.json()["status"] == "accepted"
    assert unmapped.json()["status"] == "ignored"
    assert elsewhere.json()["status"] == "ignored"
    codes = {row["code"]: row for row in listing.json()}
    assert codes["10-50F"]["category"] == "fatal_collision"
    assert codes["SHOOT"]["origin"] == "default"


async def test_a_token_cannot_report_or_read_for_another_agency(incidents, agency):
    async with httpx.AsyncClient() as client:
        foreign = await post(client, incidents.url, agency, report(agency_id="CA0190000"))
        assert foreign.status_code == 403
        assert foreign.headers["content-type"] == "application/problem+json"
        own = await post(client, incidents.url, agency, report(agency_id=agency))
        assert own.status_code == 202
        incident = own.json()["incident_id"]
        other_coordinator = await client.get(
            f"{incidents.url}/v1/incidents/{incident}",
            headers=bearer("CA0190000", Role.COORDINATOR),
        )
        other_retract = await client.post(
            f"{incidents.url}/v1/incidents/{incident}/retraction",
            json={},
            headers=bearer("CA0190000", Role.INGEST),
        )
    assert other_coordinator.status_code == 403
    assert other_retract.status_code == 403


async def test_no_token_is_401_and_the_wrong_role_is_403(incidents, agency):
    async with httpx.AsyncClient() as client:
        anonymous = await client.post(f"{incidents.url}/v1/incidents", json=report())
        forged = await client.post(
            f"{incidents.url}/v1/incidents",
            json=report(),
            headers={"Authorization": "Bearer not.a.token"},
        )
        leader = await post(client, incidents.url, agency, report(), role=Role.LEADERSHIP)
        leader_read = await client.get(
            f"{incidents.url}/v1/incidents/{uuid.uuid4()}",
            headers=bearer(agency, Role.LEADERSHIP),
        )
    assert anonymous.status_code == 401
    assert forged.status_code == 401
    assert leader.status_code == 403
    assert leader_read.status_code == 403


async def test_invalid_reports_name_the_field_and_store_nothing(incidents, agency):
    async with httpx.AsyncClient() as client:
        naive = await post(client, incidents.url, agency, report(occurred_at="2026-11-25T22:14:00"))
        neither = report()
        del neither["source_type"]
        missing = await post(client, incidents.url, agency, neither)
        bad_role = report(involved=[{"personnel_id": "B1", "role": "suspect"}])
        role = await post(client, incidents.url, agency, bad_role)
        view = await client.get(
            f"{incidents.url}/v1/incidents/{incident_id_for(agency, '24-000123')}",
            headers=bearer(agency, Role.COORDINATOR),
        )
    assert naive.status_code == missing.status_code == role.status_code == 422
    assert naive.headers["content-type"] == "application/problem+json"
    assert naive.json()["errors"][0]["loc"] == ["occurred_at"]
    assert "category or source_type" in missing.json()["detail"]
    assert role.json()["errors"][0]["loc"] == ["involved", 0, "role"]
    assert "suspect" not in role.text
    assert view.status_code == 404


async def test_a_coordinator_reads_an_incident_and_the_read_is_audited(incidents, agency):
    from sqlalchemy import select

    from shared.audit import AuditRow

    async with httpx.AsyncClient() as client:
        accepted = (await post(client, incidents.url, agency, report())).json()
        view = await client.get(
            f"{incidents.url}/v1/incidents/{accepted['incident_id']}",
            headers=bearer(agency, Role.COORDINATOR, sub="coord-7"),
        )
    assert view.status_code == 200
    assert view.json()["involved"][0] == {"personnel_id": "B1234", "role": "primary"}
    assert set(view.json()) == {
        "incident_id", "agency_id", "external_id", "category", "occurred_at", "involved",
        "status", "retraction_reason", "reported_at", "updated_at",
    }  # fmt: skip
    from shared.db import create_engine, sessionmaker

    engine = create_engine(str(incidents.runtime.engine.url.render_as_string(hide_password=False)))
    async with sessionmaker(engine)() as session:
        rows = (await session.execute(select(AuditRow))).scalars().all()
    await engine.dispose()
    assert [(r.actor, r.action, r.object_id) for r in rows] == [
        ("coord-7", "read", accepted["incident_id"])
    ]


async def test_no_personnel_id_reaches_a_trace(incidents, agency):
    async with httpx.AsyncClient() as client:
        accepted = (await post(client, incidents.url, agency, report())).json()
        await client.get(
            f"{incidents.url}/v1/incidents/{accepted['incident_id']}",
            headers=bearer(agency, Role.COORDINATOR),
        )
        await post(client, incidents.url, agency, report(occurred_at="B1234"))
    spans = incidents.spans.get_finished_spans()
    assert spans, "the service recorded no spans"
    for span in spans:
        text = repr((span.name, dict(span.attributes or {}), [e.attributes for e in span.events]))
        assert "B1234" not in text and "D-77" not in text
