"""Differential privacy for the regional rollup: noised counts, a budget per period,
and a refusal once it is spent."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.metrics import privacy
from services.metrics.app import create_app
from shared.tokens import Role
from tests.metrics.scenario import WINDOW, table
from tests.support.clients import client
from tests.support.running import RunningService, metrics_settings, serve_app


@pytest.fixture
def dp_metrics(nats_url, database_url, tmp_path) -> Iterator[RunningService]:
    """Metrics whose per-period budget allows two releases of epsilon 1."""
    settings = metrics_settings(
        nats_url, database_url, tmp_path / "m", metrics_dp_epsilon=1.0, metrics_dp_budget=2.0
    )
    spans = InMemorySpanExporter()
    yield from serve_app(create_app(settings, exporter=spans), spans, nats_url)


async def test_releases_spend_the_budget_and_the_third_is_refused(dp_metrics, agency):
    params = {**WINDOW, "privacy": "dp"}
    async with client(dp_metrics, agency, Role.REGIONAL) as regional:
        first = await regional.get("/v1/metrics", params=params)
        second = await regional.get("/v1/metrics.csv", params=params)
        third = await regional.get("/v1/metrics", params=params)
        later = await regional.get(
            "/v1/metrics", params={**params, "from": "2026-04-01", "to": "2026-04-30"}
        )
    assert (first.status_code, second.status_code) == (200, 200)
    answer = first.json()
    assert (answer["privacy"], answer["epsilon"]) == ("dp", 1.0)
    assert all(not c["suppressed"] for r in table(answer, "incidents")["rows"] for c in r["cells"])
    assert third.status_code == 409
    assert third.headers["content-type"] == "application/problem+json"
    assert third.json()["periods"] == ["2026-01", "2026-02", "2026-03"]
    assert later.status_code == 200  # another period has its own budget


async def test_only_the_regional_rollup_is_released_with_dp(dp_metrics, agency):
    async with client(dp_metrics, agency, Role.REGIONAL) as regional:
        one_agency = await regional.get(
            "/v1/metrics", params={**WINDOW, "privacy": "dp", "agency": agency}
        )
    assert one_agency.status_code == 422


def test_the_noise_is_centred_on_the_count_and_never_negative():
    add = privacy.noise(epsilon=1.0, tables=2)
    draws = [add(100) for _ in range(2000)]
    assert abs(sum(draws) / len(draws) - 100) < 1
    assert len(set(draws)) > 5  # it is noise
    assert min(add(0) for _ in range(200)) == 0


async def test_every_noisy_number_carries_its_noise_scale_and_epsilon(dp_metrics, agency):
    async with client(dp_metrics, agency, Role.REGIONAL) as regional:
        answer = (await regional.get("/v1/metrics", params={**WINDOW, "privacy": "dp"})).json()
    tables = len(answer["tables"])
    cell = table(answer, "incidents")["rows"][0]["cells"][0]
    assert answer["noise_scale"] == tables / 1.0
    assert cell["noise_scale"] == answer["noise_scale"]
    assert cell["epsilon"] == pytest.approx(1.0 / tables)


async def test_two_replicas_racing_spend_the_last_of_a_budget_once(
    nats_url, database_url, tmp_path, agency
):
    """Budget for one release left; two replicas on one database release at once: one
    answers, the other is refused, and the ledger holds exactly the budget."""
    settings = metrics_settings(
        nats_url, database_url, tmp_path / "m", metrics_dp_epsilon=1.0, metrics_dp_budget=1.0
    )
    replicas = [
        serve_app(create_app(settings, exporter=InMemorySpanExporter()), None, nats_url)
        for _ in range(2)
    ]
    running = [next(replica) for replica in replicas]
    try:
        params = {**WINDOW, "privacy": "dp"}

        async def ask(service):
            async with client(service, agency, Role.REGIONAL) as regional:
                return (await regional.get("/v1/metrics", params=params)).status_code

        answers = await asyncio.gather(*(ask(service) for service in running))
    finally:
        for replica in replicas:
            next(replica, None)
    assert sorted(answers) == [200, 409]
