"""Bootstrap of the metrics service: wire the runtime, the consumers and the routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from shared.service import ServiceRuntime
from shared.settings import Settings

from . import subscribers
from .routes import ANONYMOUS_PATHS, ROUTERS

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings(service="metrics")
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS, exporter=exporter)
    app = runtime.create_app(
        title="Peerline metrics",
        description="Anonymous program measures per agency and region: small counts "
        "suppressed (with complementary cells), or differentially private for regional "
        "publication. Leadership sees aggregates only, never who.",
        anonymous_paths=ANONYMOUS_PATHS,
    )
    for router in ROUTERS:
        app.include_router(router)
    subscribers.register(runtime)
    return app
