"""The bus dies while reports arrive: every acknowledged report still ends up as exactly
one `IncidentReported` once the bus is back."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
import nats
import pytest

from shared.streams import EVENTS
from shared.tokens import Role
from tests.conftest import bearer
from tests.support.reports import report
from tests.support.waiting import await_until

pytestmark = pytest.mark.faults

REPORTS = 300


async def _readiness(url: str) -> int:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{url}/readyz")).status_code


async def _reported_counts(nats_url: str, agency: str) -> Counter:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    sub = await js.pull_subscribe(f"ps.{agency}.incident.reported", stream=EVENTS.name)
    counts: Counter = Counter()
    while True:
        try:
            batch = await sub.fetch(500, timeout=0.5)
        except TimeoutError:  # nats-py raises both its own and asyncio's
            break
        for msg in batch:
            counts[json.loads(msg.data)["incident_id"]] += 1
            await msg.ack()
    await nc.close()
    return counts


async def test_a_nats_restart_loses_and_doubles_no_report(incidents, nats_server, agency):
    accepted: set[str] = set()
    headers = bearer(agency, Role.INGEST)

    async def send(client: httpx.AsyncClient, n: int) -> None:
        answer = await client.post(
            f"{incidents.url}/v1/incidents", json=report(f"F-{n}"), headers=headers
        )
        if answer.status_code == 202 and answer.json()["status"] == "accepted":
            accepted.add(answer.json()["incident_id"])

    async with httpx.AsyncClient(timeout=30) as client:
        for n in range(0, REPORTS // 3):
            await send(client, n)
        nats_server.kill()
        await await_until(lambda: _not_ready(incidents.url), timeout=15, what="not ready")
        for n in range(REPORTS // 3, 2 * REPORTS // 3):
            await send(client, n)
        nats_server.start()
        await asyncio.gather(*(send(client, n) for n in range(2 * REPORTS // 3, REPORTS)))

    assert len(accepted) == REPORTS, "reports must be acknowledged while the bus is away"
    await await_until(
        lambda: _ready(incidents.url), timeout=30, what="service ready after the bus returned"
    )

    async def all_published() -> Counter | None:
        counts = await _reported_counts(nats_server.url, agency)
        return counts if set(counts) >= accepted else None

    counts = await await_until(all_published, timeout=60, what="every report published")
    assert set(counts) == accepted
    assert set(counts.values()) == {1}


async def _not_ready(url: str) -> bool:
    return await _readiness(url) == 503


async def _ready(url: str) -> bool:
    return await _readiness(url) == 200
