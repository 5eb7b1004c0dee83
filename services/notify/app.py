"""Bootstrap of the notify service: wire the runtime, the roster directory, the
delivery worker and the status route."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from shared.service import ServiceRuntime
from shared.settings import Settings

from . import subscribers
from .delivery import Deliveries
from .directory import RosterDirectory
from .routes import ROUTERS

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings(service="notify")
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS, exporter=exporter)
    app = runtime.create_app(
        title="Peerline notify",
        description="Assignments, reminders and escalations delivered once over email, SMS "
        "gateways, chat and webhooks, naming no officer and no incident detail; their "
        "delivery status, without message bodies.",
    )
    directory = RosterDirectory(settings)
    runtime.add_worker(directory)
    deliveries = runtime.add_worker(Deliveries(runtime, directory))
    subscribers.register(runtime, deliveries)
    for router in ROUTERS:
        app.include_router(router)
    return app
