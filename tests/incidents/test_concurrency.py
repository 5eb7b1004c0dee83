"""Many snapshots of one incident at once, on one replica and on two: one incident, one
`IncidentReported`, and nobody involved is lost."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from services.incidents.app import create_app
from shared.events import IncidentReported, IncidentUpdated
from shared.streams import EVENTS
from shared.tokens import Role
from tests.conftest import bearer
from tests.support.bus import EventLog
from tests.support.reports import report
from tests.support.running import incidents_settings
from tests.support.server import ThreadedServer

OFFICERS = [f"P{n:03d}" for n in range(24)]


async def _report_each_officer_at_once(urls: list[str], agency: str) -> list[str]:
    headers = bearer(agency, Role.INGEST)
    async with httpx.AsyncClient(timeout=30) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    f"{urls[n % len(urls)]}/v1/incidents",
                    json=report(involved=[{"personnel_id": pid, "role": "assisting"}]),
                    headers=headers,
                )
                for n, pid in enumerate(OFFICERS)
            )
        )
    assert all(a.status_code == 202 for a in answers), [a.text for a in answers]
    return [a.json()["status"] for a in answers]


async def _involved(url: str, agency: str, incident_id: str) -> set[str]:
    async with httpx.AsyncClient() as client:
        view = await client.get(
            f"{url}/v1/incidents/{incident_id}", headers=bearer(agency, Role.COORDINATOR)
        )
    return {i["personnel_id"] for i in view.json()["involved"]}


async def _check(log: EventLog, statuses: list[str]) -> None:
    assert statuses.count("accepted") == 1
    assert statuses.count("updated") == len(OFFICERS) - 1
    [reported] = await log.wait_for(IncidentReported)
    updates = await log.wait_for(IncidentUpdated, count=len(OFFICERS) - 1)
    assert {i.personnel_id for i in updates[-1].involved} == set(OFFICERS)
    assert len({i.personnel_id for i in reported.involved}) == 1


async def test_concurrent_snapshots_on_one_replica_merge(incidents, agency):
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        statuses = await _report_each_officer_at_once([incidents.url], agency)
        await _check(log, statuses)
    incident_id = str(log.of_type(IncidentReported)[0].incident_id)
    assert await _involved(incidents.url, agency, incident_id) == set(OFFICERS)


@pytest.fixture
def second_replica(incidents, nats_url, database_url, tmp_path):
    """Another incidents process on the same database and bus."""
    settings = incidents_settings(nats_url, database_url, tmp_path / "replica")
    server = ThreadedServer(create_app(settings)).start()
    yield server.url
    server.stop()


async def test_concurrent_snapshots_on_two_replicas_merge(incidents, second_replica, agency):
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        statuses = await _report_each_officer_at_once([incidents.url, second_replica], agency)
        await _check(log, statuses)
    incident_id = str(log.of_type(IncidentReported)[0].incident_id)
    assert await _involved(second_replica, agency, incident_id) == set(OFFICERS)
