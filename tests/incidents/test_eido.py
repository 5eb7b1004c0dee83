"""Reporting incidents as NENA EIDOs (NENA-STA-021), one at a time or in an STA-024
`event` notification, as an agency's CAD does without an adapter (the documents:
`tests/support/eido/`)."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from shared.events import IncidentReported, IncidentRetracted, IncidentUpdated
from shared.ids import incident_id_for
from shared.streams import EVENTS
from shared.tokens import Role
from tests.conftest import bearer
from tests.support.bus import EventLog
from tests.support.eido import (
    CANARIES,
    COLLISION,
    FIXTURES,
    PD,
    PSAP,
    SHOOTING,
    SHOOTING_INVOLVED,
    TRAFFIC,
    eido,
)


async def configure(client, url, agency, **settings) -> None:
    body = {"agency_identifiers": [PD, PSAP], **settings}
    answer = await client.put(
        f"{url}/v1/eido/settings", json=body, headers=bearer(agency, Role.COORDINATOR)
    )
    assert answer.status_code == 200, answer.text


async def post(client, url, agency, body) -> httpx.Response:
    return await client.post(f"{url}/v1/eido", json=body, headers=bearer(agency, Role.INGEST))


async def kept(client, url, agency, external_id: str) -> dict:
    incident_id = incident_id_for(agency, external_id)
    answer = await client.get(
        f"{url}/v1/incidents/{incident_id}", headers=bearer(agency, Role.COORDINATOR)
    )
    return answer.json() if answer.status_code == 200 else {}


def pairs(involved) -> list[tuple[str, str]]:
    return [
        (i["personnel_id"], i["role"]) if isinstance(i, dict) else (i.personnel_id, i.role)
        for i in involved
    ]


async def test_an_eido_reports_its_units_staff_and_dispatchers(incidents, agency):
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        async with httpx.AsyncClient() as client:
            await configure(client, incidents.url, agency)
            answer = await post(client, incidents.url, agency, eido("shooting"))
        assert answer.status_code == 202, answer.text
        assert answer.json() == [
            {"incident_id": str(incident_id_for(agency, SHOOTING)), "status": "accepted"}
        ]
        [event] = await log.wait_for(IncidentReported)
    assert event.external_id == SHOOTING
    assert event.category == "officer_involved_shooting"
    assert pairs(event.involved) == SHOOTING_INVOLVED  # not the fire engine's firefighter
    assert event.occurred_at.isoformat() == "2025-06-15T03:14:30+00:00"


@pytest.mark.parametrize(
    "name",
    ["tolerance_timestamp_lowercase", "tolerance_incident_array", "tolerance_jcard_string"],
)
async def test_real_world_variants_read_like_the_schema(incidents, agency, name):
    async with httpx.AsyncClient() as client:
        await configure(client, incidents.url, agency)
        answer = await post(client, incidents.url, agency, eido(name))
        assert answer.status_code == 202, answer.text
        assert answer.json()[0]["status"] == "accepted"
        incident = await kept(client, incidents.url, agency, SHOOTING)
    assert pairs(incident["involved"]) == SHOOTING_INVOLVED
    assert incident["occurred_at"] == "2025-06-15T03:14:30Z"


async def test_a_notification_answers_each_incident_in_order(incidents, agency):
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        async with httpx.AsyncClient() as client:
            await configure(client, incidents.url, agency)
            mapped = await client.put(
                f"{incidents.url}/v1/source-types/10-50F",
                json={"category": "fatal_collision"},
                headers=bearer(agency, Role.COORDINATOR),
            )
            assert mapped.status_code == 200
            answer = await post(client, incidents.url, agency, eido("notification"))
        assert answer.status_code == 202, answer.text
        assert answer.json() == [
            {"incident_id": str(incident_id_for(agency, SHOOTING)), "status": "accepted"},
            {"incident_id": str(incident_id_for(agency, TRAFFIC)), "status": "ignored"},
            {"incident_id": str(incident_id_for(agency, COLLISION)), "status": "accepted"},
        ]
        events = await log.wait_for(IncidentReported, count=2)
    # The agency's own code wins over the common type (MVC, not critical by default).
    assert [(e.external_id, e.category) for e in events] == [
        (SHOOTING, "officer_involved_shooting"),
        (COLLISION, "fatal_collision"),
    ]
    assert pairs(events[1].involved) == [(f"s0101@{PD}", "supervisor"), *SHOOTING_INVOLVED[4:]]


async def test_an_empty_notification_is_a_keep_alive(incidents, agency):
    async with httpx.AsyncClient() as client:
        answer = await post(client, incidents.url, agency, {"event": {"subscriptionId": "s-1"}})
    assert answer.status_code == 202
    assert answer.json() == []


async def test_snapshots_add_officers_and_repeat_as_duplicates(incidents, agency):
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        async with httpx.AsyncClient() as client:
            await configure(client, incidents.url, agency)
            statuses = []
            for name in ("shooting", "shooting", "shooting_unit_added", "shooting_unit_added"):
                answer = await post(client, incidents.url, agency, eido(name))
                statuses.append(answer.json()[0]["status"])
            # A later incident's event proves the outbox has moved past the duplicates.
            marker = eido("shooting")
            marker["$id"] = "urn:emergency:uid:incidentid:marker:psap.springfield.example"
            await post(client, incidents.url, agency, marker)
        assert statuses == ["accepted", "duplicate", "updated", "duplicate"]
        reported = await log.wait_for(IncidentReported, count=2)
    [update] = log.of_type(IncidentUpdated)
    assert update.incident_id == incident_id_for(agency, SHOOTING)
    added = set(pairs(update.involved)) - set(pairs(reported[0].involved))
    assert added == {(f"b4567@{PD}", "primary")}
    assert set(pairs(reported[0].involved)) <= set(pairs(update.involved))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("cancelled", "entered_in_error"),
        # `disposition` (one object) instead of `dispositionComponent`; "22" is
        # "Cancelled - Duplicate Call".
        ("tolerance_disposition_cancelled_duplicate", "duplicate_incident"),
    ],
)
async def test_a_cancelled_incident_is_retracted_once(incidents, agency, name, reason):
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        async with httpx.AsyncClient() as client:
            await configure(client, incidents.url, agency)
            never_seen = await post(client, incidents.url, agency, eido(name))
            await post(client, incidents.url, agency, eido("shooting"))
            first = await post(client, incidents.url, agency, eido(name))
            again = await post(client, incidents.url, agency, eido(name))
            later = await post(client, incidents.url, agency, eido("shooting_unit_added"))
            incident = await kept(client, incidents.url, agency, SHOOTING)
        assert [a.json()[0]["status"] for a in (never_seen, first, again, later)] == [
            "ignored",
            "retracted",
            "duplicate",
            "duplicate",
        ]
        [retracted] = await log.wait_for(IncidentRetracted)
    assert retracted.incident_id == incident_id_for(agency, SHOOTING)
    assert retracted.reason == reason
    assert incident["status"] == "retracted"
    assert not log.of_type(IncidentUpdated)


async def test_settings_map_personnel_ids_and_leave_dispatchers_out(incidents, agency):
    async with httpx.AsyncClient() as client:
        await configure(
            client, incidents.url, agency, dispatchers=False, personnel_id="agent_local_part"
        )
        settings = await client.get(
            f"{incidents.url}/v1/eido/settings", headers=bearer(agency, Role.COORDINATOR)
        )
        await post(client, incidents.url, agency, eido("shooting"))
        incident = await kept(client, incidents.url, agency, SHOOTING)
    assert settings.json() == {
        "agency_identifiers": [PD, PSAP],
        "dispatchers": False,
        "personnel_id": "agent_local_part",
    }
    assert pairs(incident["involved"]) == [
        ("b1234", "primary"),
        ("b2345", "primary"),
        ("b3456", "assisting"),
        ("s0101", "supervisor"),
    ]


async def test_nothing_but_the_minimal_intake_is_kept_sent_or_logged(
    incidents, agency, database_url, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    rejected = eido("shooting")
    rejected["$id"] = "Whitlock\n"  # refused: the answer must not echo it
    async with EventLog(incidents.nats_url, "ps.>", EVENTS.name) as log:
        async with httpx.AsyncClient() as client:
            await configure(client, incidents.url, agency)
            for name in ("shooting", "shooting_unit_added", "notification"):
                assert (await post(client, incidents.url, agency, eido(name))).status_code == 202
            refusal = await post(client, incidents.url, agency, rejected)
        assert refusal.status_code == 422
        await log.wait_for(IncidentUpdated)

    engine = create_async_engine(database_url)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
        stored = [list(await conn.execute(sa.text(f'SELECT * FROM "{t}"'))) for t in tables]
    await engine.dispose()
    spans = [
        (s.name, dict(s.attributes or {}), [e.attributes for e in s.events])
        for s in incidents.spans.get_finished_spans()
    ]
    captured = capfd.readouterr()
    places = {
        "database": repr(stored),
        "bus": repr(log.raw),
        "logs": caplog.text + captured.out + captured.err,
        "traces": repr(spans),
        "answer": refusal.text,
    }
    assert "incidents" in tables and stored[tables.index("incidents")], "nothing was stored"
    for where, text in places.items():
        for canary in CANARIES:
            assert canary not in text, f"{canary!r} reached the {where}"


async def test_an_eido_missing_what_peerline_needs_is_422_with_its_json_path(incidents, agency):
    untyped = eido("shooting")
    del untyped["incidentComponent"]["incidentTypeCommonRegistryText"]
    notification = eido("notification")
    notification["event"]["notification"][1]["emergencyResourceComponent"][0]["agentReference"] = [
        {"$ref": "nobody@pd.springfield.example"}
    ]
    async with httpx.AsyncClient() as client:
        await configure(client, incidents.url, agency)
        missing = await post(client, incidents.url, agency, untyped)
        dangling = await post(client, incidents.url, agency, notification)
        not_an_eido = await post(client, incidents.url, agency, ["EIDO"])
        nothing = await kept(client, incidents.url, agency, SHOOTING)
    assert missing.status_code == 422
    assert missing.headers["content-type"] == "application/problem+json"
    assert [e["path"] for e in missing.json()["errors"]] == [
        "$.incidentComponent.incidentTypeCommonRegistryText"
    ]
    assert dangling.status_code == 422
    assert dangling.json()["errors"] == [
        {
            "loc": [
                "event",
                "notification",
                1,
                "emergencyResourceComponent",
                0,
                "agentReference",
                0,
                "$ref",
            ],
            "path": "$.event.notification[1].emergencyResourceComponent[0].agentReference[0].$ref",
            "msg": "names no agent in agentComponent",
        }
    ]
    assert not_an_eido.status_code == 422
    assert nothing == {}, "an EIDO of a refused notification was applied"


async def test_an_eido_of_another_agency_is_403(incidents, agency):
    others = eido("shooting")
    for component in others["agencyComponent"]:
        component["incidentOwningAgencyIndicator"] = component["$id"] == PSAP
    async with httpx.AsyncClient() as client:
        unconfigured = await post(client, incidents.url, agency, eido("shooting"))
        await configure(client, incidents.url, agency, agency_identifiers=[PD])
        owned_by_psap = await post(client, incidents.url, agency, others)
        as_configured = await post(client, incidents.url, agency, eido("shooting"))
    assert unconfigured.status_code == owned_by_psap.status_code == 403
    assert owned_by_psap.headers["content-type"] == "application/problem+json"
    assert as_configured.status_code == 202


async def test_an_identifier_belongs_to_one_agency(incidents, agency):
    """Another agency's coordinator cannot claim this agency's EIDO identifier, nor its
    own id, and so its ingest token cannot report this agency's incidents."""
    other = "T" + uuid.uuid4().hex[:12].upper()
    async with httpx.AsyncClient() as client:
        await configure(client, incidents.url, agency, agency_identifiers=[PD])
        await post(client, incidents.url, agency, eido("shooting"))
        claims = [
            await client.put(
                f"{incidents.url}/v1/eido/settings",
                json={"agency_identifiers": identifiers},
                headers=bearer(other, Role.COORDINATOR),
            )
            for identifiers in ([PD.upper()], [agency.lower()], ["pd.other.example", PD])
        ]
        reported_by_other = await post(client, incidents.url, other, eido("shooting"))
        still_mine = await client.get(
            f"{incidents.url}/v1/eido/settings", headers=bearer(agency, Role.COORDINATOR)
        )
    for claim in claims:
        assert claim.status_code == 409, claim.text
        assert claim.json()["errors"][0]["loc"] == ["agency_identifiers"]
    assert reported_by_other.status_code == 403
    assert still_mine.json()["agency_identifiers"] == [PD]


async def test_only_an_ingest_token_reports_eidos(incidents, agency):
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{incidents.url}/v1/eido",
            json=eido("shooting"),
            headers=bearer(agency, Role.COORDINATOR),
        )
        settings = await client.put(
            f"{incidents.url}/v1/eido/settings",
            json={"agency_identifiers": [PD]},
            headers=bearer(agency, Role.INGEST),
        )
    assert answer.status_code == settings.status_code == 403


def test_the_fixtures_carry_every_canary():
    text = "".join(p.read_text() for p in FIXTURES.glob("*.json"))
    for canary in CANARIES:
        assert canary in text, f"{canary!r} is in no fixture: the canary test proves nothing"
