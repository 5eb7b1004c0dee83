"""Bootstrap of the incidents service: wire the runtime, routes and subscribers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from shared.service import ServiceRuntime
from shared.settings import Settings

from . import subscribers
from .intake import IntakeWriter
from .routes import ROUTERS

MIGRATIONS = Path(__file__).parent / "migrations"
# EIDOs carry much Peerline drops unread (locations as PIDF-LO, additional data as XML),
# and a notification several EIDOs: a larger body than a report's.
EIDO_MAX_BYTES = 8 << 20


def create_app(settings: Settings | None = None, exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings(service="incidents")
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS, exporter=exporter)
    app = runtime.create_app(
        title="Peerline incidents",
        description="Critical-incident intake from agencies' dispatch and records systems.",
        body_limits={"/v1/eido": EIDO_MAX_BYTES},
    )
    runtime.add_worker(runtime.provide(IntakeWriter(runtime)))
    for router in ROUTERS:
        app.include_router(router, tags=["incidents"])
    subscribers.register(runtime)
    return app
