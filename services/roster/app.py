"""Bootstrap of the roster service: wire the runtime, the sealer and the routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from shared.service import ServiceRuntime
from shared.settings import Settings

from . import subscribers
from .peers import PeerPool
from .personal import Sealer
from .routes import ROUTERS, imports

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings(service="roster")
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS, exporter=exporter)
    app = runtime.create_app(
        title="Peerline roster",
        description="Peer supporters, officers, preferences, resources and agency settings.",
        body_limits={imports.PATH: imports.MAX_BYTES},
    )
    runtime.provide(Sealer(settings))
    runtime.provide(PeerPool())
    for router in ROUTERS:
        app.include_router(router)
    runtime.provide(subscribers.register(runtime))
    return app
