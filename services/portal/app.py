"""Bootstrap of the portal: its session database, the clients of the identity
provider and of the other services, the security headers, and the pages.

The portal has no bus: it reads and writes only through the services' HTTP APIs, as
the signed-in person (decision 56).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from opentelemetry.sdk.trace.export import SpanExporter

from shared import db
from shared.health import health_router
from shared.http_guard import HttpGuard
from shared.periodic import Periodic
from shared.settings import Settings
from shared.telemetry import Telemetry

from . import domain
from .backend import Backend
from .oidc import OidcClient
from .routes import common, coordinator, leader, officer, signin, supporter
from .security import SecurityHeaders
from .sessions import SessionStore
from .web import install_error_pages

HERE = Path(__file__).parent
MIGRATIONS = HERE / "migrations"
STATIC = HERE / "static"
PURGE_EVERY = 300.0  # seconds between sweeps of idle sessions


def create_app(settings: Settings | None = None, exporter: SpanExporter | None = None) -> FastAPI:
    settings = settings or Settings(service="portal")
    telemetry = Telemetry("portal", exporter)
    engine = db.create_engine(settings.resolved_database_url())
    telemetry.instrument_engines(engine)
    sessions = SessionStore(
        db.sessionmaker(engine), idle_minutes=settings.portal_session_idle_minutes
    )
    backend = Backend(settings)
    purge = Periodic("purge-idle-sessions", PURGE_EVERY, sessions.purge_idle)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await db.migrate(engine, MIGRATIONS)
        purge.start()
        try:
            yield
        finally:
            await purge.stop()
            await backend.close()
            await engine.dispose()
            telemetry.shutdown()

    app = FastAPI(
        title="Peerline portal",
        description="The web application of officers, peer supporters, coordinators and leaders.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.state.backend = backend
    app.state.oidc = OidcClient(settings) if settings.oidc_issuer else None
    app.state.crisis_lines = domain.crisis_lines(settings.crisis_lines)
    app.state.static_dir = STATIC
    app.add_middleware(
        HttpGuard,
        anonymous_paths=(),
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout,
        bearer_required=False,
    )
    app.add_middleware(SecurityHeaders)

    async def readiness() -> dict[str, bool]:
        return {"database": await db.ping(engine)}

    app.include_router(health_router(readiness))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (common, signin, officer, supporter, coordinator, leader):
        app.include_router(module.router)
    install_error_pages(app)
    telemetry.instrument_app(app)
    return app
