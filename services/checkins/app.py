"""Bootstrap of the check-ins service: wire the runtime, the care use cases and routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SpanExporter

from shared.pseudonyms import Pseudonyms
from shared.service import ServiceRuntime
from shared.settings import Settings

from . import subscribers
from .care import Care
from .officers import Officers
from .routes import ANONYMOUS_PATHS, ROUTERS

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None, exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings(service="checkins")
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS, exporter=exporter)
    app = runtime.create_app(
        title="Peerline check-ins",
        description="Offers of support after critical incidents, contacts, referrals, "
        "anonymous feedback and confidentiality exceptions. Records that support happened, "
        "never what was said.",
        anonymous_paths=ANONYMOUS_PATHS,
    )
    care = runtime.provide(Care(runtime.source))
    pseudonyms = runtime.provide(Pseudonyms(settings))
    for router in ROUTERS:
        app.include_router(router)
    subscribers.register(runtime, care, Officers(pseudonyms))
    return app
