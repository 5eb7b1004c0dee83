"""What every service process is made of, wired once: settings, database and
migrations, the broker with telemetry, the outbox relay, and the FastAPI app with
auth, problem+json errors and health routes.

A service builds one `ServiceRuntime`, adds its routes and subscribers, and serves the
app. The bus connection is made in the background: the service answers HTTP (and keeps
accepting reports into its outbox) while NATS is away, reports not-ready, and recovers
by itself when the bus returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol

from fastapi import FastAPI
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from opentelemetry.sdk.trace.export import SpanExporter
from sqlalchemy.ext.asyncio import AsyncSession

from shared import bus, db
from shared.bus import Handler
from shared.health import health_router
from shared.outbox import Relay
from shared.problems import install_problem_handlers
from shared.settings import Settings
from shared.streams import StreamSpec, provision
from shared.telemetry import Telemetry
from shared.tokens import TokenVerifier

log = logging.getLogger(__name__)


class Worker(Protocol):
    def start(self) -> None: ...

    async def stop(self) -> None: ...


class ServiceRuntime:
    """One service process: its settings, database, broker, relay, workers and app."""

    def __init__(
        self,
        settings: Settings,
        *,
        migrations: Path,
        exporter: SpanExporter | None = None,
    ) -> None:
        self.name = settings.service
        self.source = f"peerline/{settings.service}"
        self.settings = settings
        self.migrations = migrations
        self.telemetry = Telemetry(self.name, exporter)
        self.engine = db.create_engine(settings.resolved_database_url())
        self.telemetry.instrument_engine(self.engine)
        self.sessions = db.sessionmaker(self.engine)
        self.broker = NatsBroker(
            settings.nats_url,
            name=f"peerline-{self.name}",
            middlewares=[self.telemetry.broker_middleware()],
            # Our logging (redacting tracebacks); a line per message only at DEBUG.
            logger=logging.getLogger("peerline.bus"),
            log_level=logging.DEBUG,
            connect_timeout=2,
            reconnect_time_wait=1,
            max_reconnect_attempts=-1,
            allow_reconnect=True,
        )
        self.relay = Relay(self.sessions, self.jetstream, timeout=settings.publish_timeout)
        # Background workers started and stopped with the app, in order (relay first).
        self.workers: list[Worker] = [self.relay]
        self._bus_started = False
        self._bus_task: asyncio.Task | None = None

    def jetstream(self) -> JetStreamContext | None:
        if not self._bus_started or not self._connected():
            return None
        return self.broker.config.connection_state.stream

    def _connected(self) -> bool:
        conn = self.broker._connection
        return conn is not None and conn.is_connected

    async def commit(self, session: AsyncSession) -> None:
        """Commit, then tell the relay there are events to publish."""
        await session.commit()
        self.relay.wake()

    async def database_ok(self) -> bool:
        return await db.ping(self.engine)

    def subscribe(
        self, *, subject: str, durable: str, stream: StreamSpec, handler: Handler
    ) -> None:
        """A durable consumer with Peerline's delivery rules that holds its messages
        while this service's database is down."""
        bus.subscribe(
            self.broker,
            service=self.name,
            subject=subject,
            durable=durable,
            stream=stream,
            handler=handler,
            dependencies_ok=self.database_ok,
            max_deliver=self.settings.max_deliver,
        )

    async def readiness(self) -> dict[str, bool]:
        return {
            "database": await self.database_ok(),
            "bus": self._bus_started and self._connected(),
        }

    async def _start_bus(self) -> None:
        delay = 0.2
        while True:
            try:
                await self.broker.connect()
                await provision(
                    self.broker.config.connection_state.stream, self.settings.stream_replicas
                )
                await self.broker.start()
                self._bus_started = True
                self.relay.wake()
                log.info("%s connected to the bus", self.name)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("bus not reachable (%s); retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await db.migrate(self.engine, self.migrations)
        for worker in self.workers:
            worker.start()
        self._bus_task = asyncio.create_task(self._start_bus(), name="bus-connect")
        try:
            yield
        finally:
            self._bus_task.cancel()
            await asyncio.gather(self._bus_task, return_exceptions=True)
            for worker in reversed(self.workers):
                await worker.stop()
            try:
                await self.broker.stop()
            except Exception as exc:  # the bus may already be gone at shutdown
                log.info("broker stop: %s", type(exc).__name__)
            await self.engine.dispose()
            self.telemetry.shutdown()

    async def _database_down(self) -> bool:
        return not await self.database_ok()

    def create_app(self, *, title: str, description: str, version: str = "1") -> FastAPI:
        app = FastAPI(title=title, description=description, version=version, lifespan=self.lifespan)
        app.state.runtime = self
        app.state.token_verifier = TokenVerifier(self.settings)
        install_problem_handlers(app, unavailable=self._database_down)
        app.include_router(health_router(self.readiness))
        self.telemetry.instrument_app(app)
        return app
