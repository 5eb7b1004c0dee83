"""The database goes away and comes back: the service says not-ready and 503 meanwhile,
loses nothing it acknowledged, and recovers by itself. PostgreSQL only: it is the
database that runs as a separate server."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import httpx
import nats
import pytest

from shared import bus, cloudevents
from shared.events import FeedbackSubmitted, IncidentReported
from shared.streams import EVENTS, provision
from shared.tokens import Role
from tests.conftest import DATABASES, bearer
from tests.support.bus import EventLog
from tests.support.effects import effect_count, effects_runtime
from tests.support.reports import report
from tests.support.waiting import await_until

pytestmark = pytest.mark.faults


async def _set_connections(database_url: str, allowed: bool) -> None:
    server, name = database_url.rsplit("/", 1)
    admin = await asyncpg.connect(f"{server}/postgres".replace("postgresql+asyncpg", "postgresql"))
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
    finally:
        await admin.close()


async def _is(url: str, readiness: int) -> bool:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{url}/readyz")).status_code == readiness


@pytest.mark.parametrize("database_url", [d for d in DATABASES if d == "postgresql"], indirect=True)
async def test_the_service_survives_a_database_outage(
    incidents, database_url, agency, monkeypatch, caplog
):
    retries: list[int] = []
    monkeypatch.setattr(bus, "retry_delay", lambda n: retries.append(n) or 0.01)
    headers = bearer(agency, Role.INGEST)
    async with EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log:
        async with httpx.AsyncClient(timeout=30) as client:
            before = await client.post(
                f"{incidents.url}/v1/incidents", json=report("DB-1"), headers=headers
            )
            assert before.json()["status"] == "accepted"

            await _set_connections(database_url, allowed=False)
            try:
                await await_until(lambda: _is(incidents.url, 503), timeout=15, what="not ready")
                during = await client.post(
                    f"{incidents.url}/v1/incidents", json=report("DB-2"), headers=headers
                )
                assert during.status_code == 503
                assert during.headers["content-type"] == "application/problem+json"
                assert during.headers["retry-after"]
                # A report over NATS meanwhile is held until the database is back, not
                # retried (and, after max_deliver, dead-lettered).
                nc = await nats.connect(incidents.nats_url)
                await nc.jetstream().publish(
                    f"ps.{agency}.intake.incident", json.dumps(report("DB-3")).encode()
                )
                await nc.close()
                await await_until(
                    lambda: "holding the message" in caplog.text, timeout=15, what="a hold"
                )
            finally:
                await _set_connections(database_url, allowed=True)

            await await_until(lambda: _is(incidents.url, 200), timeout=30, what="ready")
            after = await client.post(
                f"{incidents.url}/v1/incidents", json=report("DB-2"), headers=headers
            )
            assert after.json()["status"] == "accepted"
        events = await log.wait_for(IncidentReported, count=3, timeout=30)
    assert sorted(e.external_id for e in events) == ["DB-1", "DB-2", "DB-3"]
    nc = await nats.connect(incidents.nats_url)
    dead = await nc.jetstream().stream_info("PEERLINE_DLQ")
    await nc.close()
    assert dead.state.messages == 0
    assert retries == [], "the outage used up deliveries"


@pytest.mark.parametrize("database_url", [d for d in DATABASES if d == "postgresql"], indirect=True)
async def test_a_database_outage_in_the_middle_of_a_batch(
    nats_url, database_url, tmp_path, monkeypatch, caplog
):
    """The batch is held while the database is away, then applied once: no delivery is
    spent, nothing is dead-lettered, every event has one effect."""
    retries: list[int] = []
    monkeypatch.setattr(bus, "retry_delay", lambda n: retries.append(n) or 0.01)
    cut = asyncio.Event()

    async def cut_once(items) -> None:
        if not cut.is_set():
            cut.set()
            await _set_connections(database_url, allowed=False)

    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    for _ in range(100):
        event = FeedbackSubmitted(agency_id="A1", rating=4, would_recommend=True)
        payload, headers = cloudevents.encode(event, source="test")
        await bus.publish_raw(js, event.subject, payload, headers, timeout=5)
    runtime = effects_runtime(nats_url, database_url, tmp_path, before_apply=cut_once)
    try:
        async with runtime.lifespan(None):
            await await_until(lambda: "holding the message" in caplog.text, timeout=30)
            await _set_connections(database_url, allowed=True)
            await await_until(lambda: _count(runtime, 100), timeout=30, what="applied")
            info = await js.consumer_info(EVENTS.name, "effects")
    finally:
        await _set_connections(database_url, allowed=True)
    assert info.delivered.consumer_seq == 100, "the outage spent deliveries"
    assert retries == []
    assert (await js.stream_info("PEERLINE_DLQ")).state.messages == 0
    await nc.close()


async def _count(runtime, n: int) -> bool:
    try:
        return await effect_count(runtime) == n
    except Exception:  # the database is still coming back
        return False
