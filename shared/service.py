"""What every service process is made of, wired once: settings, database and
migrations, the broker with telemetry, the outbox relay, and the FastAPI app with
auth, limits on hostile requests, problem+json errors and health routes.

A service builds one `ServiceRuntime`, adds its routes and subscribers, and serves the
app. The bus connection is made in the background: the service answers HTTP (and keeps
accepting reports into its outbox) while NATS is away, reports not-ready, and recovers
by itself when the bus returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol, TypeVar

from fastapi import FastAPI
from faststream.exceptions import IncorrectState
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from opentelemetry.sdk.trace.export import SpanExporter
from sqlalchemy.ext.asyncio import AsyncSession

from shared import bus, bus_permissions, db, ids, inbox, outbox
from shared.auth import document_roles
from shared.bus import Received
from shared.events import Event
from shared.figures import Figures
from shared.health import health_router
from shared.http_guard import HttpGuard
from shared.natsaccess import nats_access
from shared.outbox import Relay
from shared.periodic import Periodic
from shared.problems import install_problem_handlers
from shared.settings import Settings
from shared.streams import StreamSpec, provision
from shared.telemetry import Telemetry
from shared.tokens import TokenVerifier

log = logging.getLogger(__name__)

# What every service serves without a token: probes, metrics and the API description.
# Anything else needs a bearer header before its body is read. FastAPI's /docs and
# /redoc pages are off: they load their scripts from a CDN (docs/contract/ has the
# OpenAPI files, and any OpenAPI viewer opens them).
ANONYMOUS_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})


T = TypeVar("T")
Apply = Callable[[AsyncSession, list[Received[T]]], Awaitable[None]]


def event_key(event: Event) -> str:
    return str(event.event_id)


class Worker(Protocol):
    def start(self) -> None: ...

    async def stop(self) -> None: ...


W = TypeVar("W", bound=Worker)


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
        ids.use_key(settings.id_secret)
        self.engine = db.create_engine(settings.resolved_database_url())
        self.read_engine = db.read_engine(self.engine)
        self.telemetry.instrument_engines(self.engine, self.read_engine)
        # Writes (and reads that decide a write) go through `sessions`; reads that must
        # not wait for the writer, such as HTTP GETs, through `readers`. Every commit of
        # a session that staged outbox rows wakes the relay, so an event leaves within
        # milliseconds whoever committed it.
        self.sessions = db.sessionmaker(self.engine, after_commit=self._committed)
        self.readers = db.sessionmaker(self.read_engine)
        self.broker = NatsBroker(
            settings.nats_servers(),
            name=f"peerline-{self.name}",
            security=nats_access(settings).security(),
            # Replies (acks, fetched messages) on an inbox only this service's user may
            # subscribe to.
            inbox_prefix=bus_permissions.inbox_prefix(self.name),
            # Our logging (redacting tracebacks); a line per message only at DEBUG.
            logger=logging.getLogger("peerline.bus"),
            log_level=logging.DEBUG,
            connect_timeout=2,
            reconnect_time_wait=1,
            max_reconnect_attempts=-1,
            allow_reconnect=True,
        )
        self.relay = Relay(
            self.sessions, self.jetstream, timeout=settings.publish_timeout, readers=self.readers
        )
        # The service's bus consumers, started after the workers and stopped before.
        self.consumers: list[bus.Consumer] = []
        # What an operator acts on, read in the background for `/metrics`; a service adds
        # its own timers (`figures.timers_pending`).
        self.figures = Figures(
            self.name,
            readers=self.readers,
            jetstream=self.jetstream,
            connected=self.bus_connected,
            consumers=self.consumers,
            certificates=[settings.nats_ca_file] if settings.nats_ca_file else [],
            interval=settings.figures_interval,
        )
        # Background workers started and stopped with the app, in order (relay first).
        self.workers: list[Worker] = [self.relay, self.figures]
        self._bus_started = False
        self._bus_task: asyncio.Task | None = None
        self._js: JetStreamContext | None = None
        self._provided: dict[type, object] = {}

    def jetstream(self) -> JetStreamContext | None:
        """JetStream on the broker's connection, while the bus is joined; else None."""
        if not self.bus_connected():
            return None
        return self._js

    def _connected(self) -> bool:
        try:
            return self.broker.connection.is_connected
        except IncorrectState:  # not connected yet, or stopped
            return False

    def bus_connected(self) -> bool:
        """Whether the service has joined the bus and is connected to it now."""
        return self._bus_started and self._connected()

    def _committed(self, session) -> None:
        if session.info.pop(outbox.STAGED, False):
            self.relay.wake()

    async def database_ok(self) -> bool:
        return await db.ping(self.read_engine)  # not queued behind a long write

    def consume(
        self,
        *,
        subject: str,
        durable: str,
        stream: StreamSpec,
        apply: Apply[T],
        decode: bus.Decode[T] = bus.event_of,
        key: Callable[[T], str] = event_key,
        max_batch: int = bus.MAX_BATCH,
        deliver_policy: DeliverPolicy = DeliverPolicy.ALL,
        committed: Callable[[], None] | None = None,
    ) -> None:
        """Consume `subject` on the durable `durable` in batches, the one way services
        consume: each batch is one transaction of inbox marks, `apply`'s effects and
        outbox rows, committed before any message is acked. `apply` gets only the
        messages this consumer has not handled before (by `key`, the event id), in
        stream order. While this service's database is down, messages are held.
        `deliver_policy` says where a durable starts when it is first created: the
        whole stream (the default), or only what arrives from then on. `committed` is
        called after each batch that applied something has committed (to wake the worker
        that acts on it).
        """

        user = bus_permissions.USERS.get(self.name)
        if user is not None and not user.allows(stream, durable, subject):
            raise ValueError(
                f"{self.name} may not consume {subject} as {durable} on {stream.name}: "
                "add it to shared/bus_permissions.py, whose table its NATS user is made from"
            )

        async def handle(items: list[Received[T]]) -> None:
            async with self.sessions() as session:
                keys = [key(item.value) for item in items]
                new = await inbox.fresh(session, durable, keys)
                todo = []
                for k, item in zip(keys, items, strict=True):
                    if k in new:
                        todo.append(item)
                        new.discard(k)  # a repeat within the batch is a duplicate too
                if todo:
                    await apply(session, todo)
                await session.commit()
            if todo and committed is not None:
                committed()

        self.consumers.append(
            bus.Consumer(
                js=self.jetstream,
                service=self.name,
                subject=subject,
                durable=durable,
                stream=stream,
                decode=decode,
                handler=handle,
                dependencies_ok=self.database_ok,
                tracer=self.telemetry.tracer("peerline.bus"),
                max_batch=max_batch,
                max_deliver=self.settings.max_deliver,
                deliver_policy=deliver_policy,
            )
        )

    def every(self, name: str, interval: float, job: Callable[[], Awaitable[object]]) -> Periodic:
        """Run `job` at start and every `interval` seconds, or at once when woken (see
        `shared.periodic`)."""
        return self.add_worker(Periodic(name, interval, job))

    def add_worker(self, worker: W) -> W:
        """Start `worker` with the service (after the relay) and stop it before."""
        self.workers.append(worker)
        return worker

    def provide(self, value: T) -> T:
        """Make `value` what routes that ask for its type get (`shared.routes.Provided`):
        one object of the service's own, wired here rather than looked up by name."""
        self._provided[type(value)] = value
        return value

    def provided(self, kind: type[T]) -> T:
        return self._provided[kind]

    async def readiness(self) -> dict[str, bool]:
        return {
            "database": await self.database_ok(),
            "bus": self.bus_connected() and all(c.subscribed for c in self.consumers),
        }

    async def _start_bus(self) -> None:
        delay = 0.2
        while True:
            try:
                await self.broker.connect()
                self._js = self.broker.connection.jetstream()
                await provision(self._js, self.settings.stream_replicas)
                await self.broker.start()
                self._bus_started = True
                self.relay.wake()
                self.figures.wake()
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
        for worker in [*self.workers, *self.consumers]:
            worker.start()
        self._bus_task = asyncio.create_task(self._start_bus(), name="bus-connect")
        try:
            yield
        finally:
            self._bus_task.cancel()
            await asyncio.gather(self._bus_task, return_exceptions=True)
            for worker in reversed([*self.workers, *self.consumers]):
                await worker.stop()
            try:
                await self.broker.stop()
            except Exception as exc:  # the bus may already be gone at shutdown
                log.info("broker stop: %s", type(exc).__name__)
            for engine in dict.fromkeys((self.engine, self.read_engine)):
                await engine.dispose()
            self.telemetry.shutdown()

    async def _database_down(self) -> bool:
        return not await self.database_ok()

    def create_app(
        self,
        *,
        title: str,
        description: str,
        version: str = "1",
        anonymous_paths: Iterable[str] = (),
        body_limits: Mapping[str, int] | None = None,
    ) -> FastAPI:
        """The service's app. `anonymous_paths` are exact paths of the service's own
        routes that authenticate without a bearer token (say, with a code in the body);
        they are a parameter rather than a setting, so configuration can never open a
        route that code expects to be guarded. `body_limits` gives exact paths that take
        larger bodies than `max_body_bytes` (say, a file) their own limit, likewise in
        code, so no setting raises the limit of every route."""
        app = FastAPI(
            title=title,
            description=description,
            version=version,
            lifespan=self.lifespan,
            docs_url=None,
            redoc_url=None,
        )
        app.state.runtime = self
        app.state.token_verifier = TokenVerifier(self.settings)
        app.add_middleware(
            HttpGuard,
            anonymous_paths=ANONYMOUS_PATHS | set(anonymous_paths),
            max_body_bytes=self.settings.max_body_bytes,
            body_timeout=self.settings.body_timeout,
            body_limits=body_limits,
        )
        install_problem_handlers(app, unavailable=self._database_down)
        document_roles(app)
        app.include_router(health_router(self.readiness))
        self.telemetry.instrument_app(app)
        return app
