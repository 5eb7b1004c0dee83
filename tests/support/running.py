"""Services as fixtures: real port, real NATS server, real database."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.checkins.app import create_app as create_checkins_app
from services.incidents.app import create_app
from services.metrics.app import create_app as create_metrics_app
from services.roster.app import create_app as create_roster_app
from shared.crypto import new_key
from shared.service import ServiceRuntime
from shared.settings import Settings
from tests.conftest import JWT_SECRET
from tests.support.server import ThreadedServer
from tests.support.waiting import await_until, wait_until

FIELD_KEY = new_key()
PSEUDONYM_KEY = new_key()


@dataclass
class RunningService:
    url: str
    app: FastAPI
    spans: InMemorySpanExporter
    nats_url: str

    @property
    def runtime(self):
        return self.app.state.runtime


@contextlib.asynccontextmanager
async def on_the_bus(runtime: ServiceRuntime) -> AsyncIterator[ServiceRuntime]:
    """A service's workers and bus consumers, without HTTP, until every consumer is
    bound to its durable."""
    async with runtime.lifespan(None):

        async def ready() -> bool:
            return all((await runtime.readiness()).values())

        await await_until(ready, timeout=30, what=f"{runtime.name} on the bus")
        yield runtime


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# The tests' webhook receivers listen on loopback, as a region's own hook may listen on
# its internal network: allowed there as a region would allow its network (decision 65).
LOOPBACK_ALLOWED = "127.0.0.0/8"


def incidents_settings(nats_url: str, database_url: str, data_dir: Path) -> Settings:
    return Settings(
        service="incidents",
        nats_url=nats_url,
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        data_dir=data_dir,
    )


def roster_settings(nats_url: str, database_url: str, data_dir: Path) -> Settings:
    return Settings(
        service="roster",
        nats_url=nats_url,
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        field_key=FIELD_KEY,
        data_dir=data_dir,
        notify_allowed_networks=LOOPBACK_ALLOWED,
    )


def checkins_settings(nats_url: str, database_url: str, data_dir: Path, **more) -> Settings:
    return Settings(
        service="checkins",
        nats_url=nats_url,
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        pseudonym_key=PSEUDONYM_KEY,
        data_dir=data_dir,
        **more,
    )


def serve_app(app: FastAPI, spans: InMemorySpanExporter, nats_url: str) -> Iterator[RunningService]:
    server = ThreadedServer(app).start()
    name = app.state.runtime.name
    wait_until(lambda: _ready(server.url), timeout=30, what=f"{name} ready")
    yield RunningService(server.url, app, spans, nats_url)
    server.stop()


@pytest.fixture
def incidents(nats_url, database_url, tmp_path) -> Iterator[RunningService]:
    """The incidents service on a real port, a real NATS server and a real database."""
    spans = InMemorySpanExporter()
    app = create_app(incidents_settings(nats_url, database_url, tmp_path / "data"), exporter=spans)
    yield from serve_app(app, spans, nats_url)


@pytest.fixture
def roster(nats_url, database_url, tmp_path) -> Iterator[RunningService]:
    """The roster service on a real port, a real NATS server and a real database."""
    spans = InMemorySpanExporter()
    settings = roster_settings(nats_url, database_url, tmp_path / "data")
    yield from serve_app(create_roster_app(settings, exporter=spans), spans, nats_url)


@pytest.fixture
def checkins(nats_url, database_url, tmp_path) -> Iterator[RunningService]:
    """The check-ins service on a real port, a real NATS server and a real database."""
    spans = InMemorySpanExporter()
    settings = checkins_settings(nats_url, database_url, tmp_path / "checkins")
    yield from serve_app(create_checkins_app(settings, exporter=spans), spans, nats_url)


def metrics_settings(nats_url: str, database_url: str, data_dir: Path, **more) -> Settings:
    return Settings(
        service="metrics",
        nats_url=nats_url,
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        data_dir=data_dir,
        **more,
    )


@pytest.fixture
def metrics(nats_url, database_url, tmp_path) -> Iterator[RunningService]:
    """The metrics service on a real port, a real NATS server and a real database."""
    spans = InMemorySpanExporter()
    settings = metrics_settings(nats_url, database_url, tmp_path / "metrics")
    yield from serve_app(create_metrics_app(settings, exporter=spans), spans, nats_url)
