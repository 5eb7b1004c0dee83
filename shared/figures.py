"""The figures an operator acts on, on every service's `/metrics` beside its own
(docs/operations.md, "Figures"; decision 75).

Each service process exports through the kernel, labelled with its service:

- `peerline_consumer_pending_messages{service,durable}`: what a durable has not yet been
  delivered plus what it was delivered and has not acknowledged (JetStream's
  `num_pending` + `num_ack_pending`);
- `peerline_consumer_lag_seconds{service,durable}`: how long the oldest message the
  durable has not acknowledged has been in its stream; 0 when nothing is pending;
- `peerline_outbox_pending_rows{service}` and `peerline_outbox_oldest_age_seconds{service}`:
  committed events and timers not yet published, and how long the oldest has waited;
- `peerline_dlq_messages{service}`: dead letters kept under `peerline.dlq.<service>.>`;
- `peerline_timers_pending{service,kind}`: the durable timers a service counts as pending
  (`Figures.timers_pending`: check-ins and the roster give theirs);
- `peerline_bus_connected{service}`: 1 while connected to NATS, else 0;
- `peerline_nats_servers_known{service}`: the NATS servers it sees up (below);
- `peerline_certificate_expiry_timestamp_seconds{service,file}`: when each certificate
  file the service is configured with ends (the NATS CA, `PEERLINE_NATS_CA_FILE`), as a
  Unix time; of a file with several certificates, the one that ends first.

No label names a person, an agency or an id: durables, kinds and files are few and fixed
by the deployment.

Sampled, not read at scrape time. What comes from the database or the bus is read by a
job of its own every `PEERLINE_FIGURES_INTERVAL` seconds (15 by default, about one
scrape interval); a scrape only formats what the last reading found. So a scrape never
waits on NATS or the database, costs the same however many scrapers there are, and adds
no requests to a bus or database that is already slow; the job is a task beside the
consumers and holds none of them up, and it reads through the readers' engine, so it
never queues behind the writer. The price is that a figure is up to one interval old.
Ages are kept as the moment they count from and worked out at scrape time, so a lag
keeps growing between readings. A reading that fails (a time-out, the bus away) leaves
the last good figures in place; `peerline_bus_connected`, read from the connection's
state at scrape time, says whether the bus is there at all.

Consumer lag. The consumer info has the counts, not the age of the oldest message they
count. The message after the ack floor (its stream sequence + 1) is not that message on
a stream of several subjects: the floor of a durable filtered on `assignment.made` stays
where it is while every other kind of event is stored after it, so that message can be
hours older than anything the durable waits for. The stream's message get with the
durable's filter would find the right one, but the NATS users may not use it: it reads
any message of a stream, and each service reads only its own durables' (decision 67).
So the oldest message is read the way the durable itself would read it: by a short-lived
consumer named `<durable>-lag`, with the durable's one filter, starting just past the ack
floor, that delivers the first message's headers (no payload, nothing acknowledged) and
is deleted at once. It is made only while the durable has something pending and its floor
has moved since the last look; while its floor stands still, the oldest message is the
same one. When that message cannot be read (a NATS user written before this existed),
the lag is left out rather than shown as 0.

Servers known. nats-py's server pool keeps every server it was given or told of, up or
down, so it cannot show a node going away. The figure counts the servers the cluster
itself reports up: the leader and the current replicas of `PEERLINE_DLQ` and of the
service's durables. A healthy cluster of three (streams at three replicas) shows 3, one
node down 2, a single server 1, and a service that is not connected 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ClusterInfo, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from prometheus_client.core import REGISTRY, GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus import Consumer
from shared.bus_permissions import lag_consumer
from shared.outbox import OutboxRow
from shared.periodic import Periodic
from shared.streams import DLQ
from shared.subjects import DLQ_PREFIX

log = logging.getLogger(__name__)

Count = Callable[[AsyncSession], Awaitable[int]]

TIMEOUT = 2.0  # seconds for each request of a reading

PENDING = "peerline_consumer_pending_messages"
LAG = "peerline_consumer_lag_seconds"
OUTBOX_ROWS = "peerline_outbox_pending_rows"
OUTBOX_AGE = "peerline_outbox_oldest_age_seconds"
DLQ_MESSAGES = "peerline_dlq_messages"
TIMERS = "peerline_timers_pending"
CONNECTED = "peerline_bus_connected"
SERVERS = "peerline_nats_servers_known"
CERTIFICATES = "peerline_certificate_expiry_timestamp_seconds"

GAUGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        PENDING,
        "Messages a durable has not been delivered yet, plus those delivered and not acknowledged",
        ("service", "durable"),
    ),
    (
        LAG,
        "Seconds the oldest message a durable has not acknowledged has been in its stream "
        "(0: nothing pending)",
        ("service", "durable"),
    ),
    (OUTBOX_ROWS, "Outbox rows committed and not yet published", ("service",)),
    (
        OUTBOX_AGE,
        "Seconds the oldest unpublished outbox row has waited (0: none waits)",
        ("service",),
    ),
    (DLQ_MESSAGES, "Dead letters kept in PEERLINE_DLQ under this service's name", ("service",)),
    (TIMERS, "Durable timers pending, by kind", ("service", "kind")),
    (CONNECTED, "1 while the service is connected to NATS, else 0", ("service",)),
    (
        SERVERS,
        "NATS servers the cluster reports up to this service (0: not connected)",
        ("service",),
    ),
    (
        CERTIFICATES,
        "When a certificate file the service is configured with ends (Unix time; the first "
        "to end, of a file with several)",
        ("service", "file"),
    ),
)


@dataclass(frozen=True)
class _Durable:
    """A durable as last read: its pending count, and the Unix time of its oldest
    unacknowledged message (None: nothing pending, or it could not be read) with the ack
    floor that message was found after."""

    pending: int
    oldest: float | None
    floor: int


class Figures:
    """One service process's figures: read by a periodic job while the runtime runs
    (a worker), exported by the collector this module registers."""

    def __init__(
        self,
        service: str,
        *,
        readers: async_sessionmaker,
        jetstream: Callable[[], JetStreamContext | None],
        connected: Callable[[], bool],
        consumers: Sequence[Consumer],
        certificates: Iterable[Path] = (),
        interval: float = 15.0,
    ) -> None:
        """`consumers` is the runtime's own list, filled as the service registers them."""
        self.service = service
        self._readers = readers
        self._js = jetstream
        self._connected = connected
        self._consumers = consumers
        self._certificates = [Path(p) for p in certificates]
        self._counts: dict[str, Count] = {}
        self._periodic = Periodic("figures", interval, self.sample)
        # The last good reading of each figure.
        self._durables: dict[str, _Durable] = {}
        self._outbox: tuple[int, float | None] | None = None
        self._timers: dict[str, int] = {}
        self._dlq: int | None = None
        self._servers = 0
        self._expiry: dict[str, float] = {}
        self._warned: set[str] = set()

    def timers_pending(self, kind: str, count: Count) -> None:
        """Export `count` (a query on the service's database) as the timers of `kind`
        pending (`peerline_timers_pending{kind}`)."""
        self._counts[kind] = count

    def wake(self) -> None:
        """Read again now (the bus has just been joined, say)."""
        self._periodic.wake()

    def start(self) -> None:
        _LIVE.append(self)
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
        with contextlib.suppress(ValueError):
            _LIVE.remove(self)

    async def sample(self) -> None:
        """Read every figure once; a part that fails keeps its last reading."""
        try:
            await self._read_database()
        except Exception as exc:
            log.warning("figures: the database reading failed (%s)", type(exc).__name__)
        js = self._js()
        if js is not None:
            await self._read_bus(js)
        self._expiry = {
            str(path): ends
            for path in self._certificates
            if (ends := certificate_expiry(path)) is not None
        }

    async def _read_database(self) -> None:
        async with self._readers() as session:
            rows, oldest = (
                await session.execute(
                    select(func.count(), func.min(OutboxRow.created_at)).where(
                        OutboxRow.published_at.is_(None)
                    )
                )
            ).one()
            timers = {kind: await count(session) for kind, count in self._counts.items()}
        self._outbox = (rows, oldest.timestamp() if oldest is not None else None)
        self._timers = timers

    async def _read_bus(self, js: JetStreamContext) -> None:
        consumers = list(self._consumers)
        dlq, *durables = await asyncio.gather(
            js.stream_info(DLQ.name, subjects_filter=f"{DLQ_PREFIX}.{self.service}.>"),
            *(self._read_durable(js, c) for c in consumers),
            return_exceptions=True,
        )
        up: set[str] = set()
        answered = False  # by at least one group: else the servers known stay as they were
        if isinstance(dlq, BaseException):
            log.warning("figures: the dead letters' reading failed (%s)", type(dlq).__name__)
        else:
            self._dlq = sum((dlq.state.subjects or {}).values())
            up |= servers_up(dlq.cluster)
            answered = True
        for consumer, read in zip(consumers, durables, strict=True):
            if isinstance(read, NotFoundError):
                continue  # not made yet: the consumer makes it when it first binds
            if isinstance(read, BaseException):
                log.warning(
                    "figures: %s could not be read (%s)", consumer.durable, type(read).__name__
                )
                continue
            durable, cluster = read
            self._durables[consumer.durable] = durable
            up |= servers_up(cluster)
            answered = True
        if answered:
            self._servers = len(up)

    async def _read_durable(
        self, js: JetStreamContext, consumer: Consumer
    ) -> tuple[_Durable, ClusterInfo | None]:
        info = await js.consumer_info(consumer.stream.name, consumer.durable, timeout=TIMEOUT)
        pending = (info.num_pending or 0) + (info.num_ack_pending or 0)
        floor = info.ack_floor.stream_seq if info.ack_floor is not None else 0
        last = self._durables.get(consumer.durable)
        if pending == 0:
            oldest = None
        elif last is not None and last.oldest is not None and last.floor == floor:
            oldest = last.oldest  # the floor has not moved: the same message waits
        else:
            try:
                oldest = await oldest_unacknowledged(
                    js, consumer.stream.name, consumer.durable, consumer.subject, floor + 1
                )
            except Exception as exc:
                self._warn_once(consumer.durable, exc)
                oldest = None
        return _Durable(pending, oldest, floor), info.cluster

    def _warn_once(self, durable: str, exc: Exception) -> None:
        if durable not in self._warned:
            self._warned.add(durable)
            log.warning(
                "figures: the oldest message %s has not acknowledged cannot be read (%s), "
                "so its lag is not shown; if this lasts, the service's NATS user may "
                "predate decision 75: run `peerline nats-config` again and reload the nodes",
                durable,
                type(exc).__name__,
            )

    def add_to(self, families: dict[str, GaugeMetricFamily], now: float) -> None:
        """This process's figures as last read, ages as of `now` (Unix time)."""
        s = self.service
        connected = self._connected()
        families[CONNECTED].add_metric([s], 1.0 if connected else 0.0)
        families[SERVERS].add_metric([s], float(max(self._servers, 1)) if connected else 0.0)
        for durable, read in self._durables.items():
            families[PENDING].add_metric([s, durable], float(read.pending))
            if read.pending == 0:
                families[LAG].add_metric([s, durable], 0.0)
            elif read.oldest is not None:
                families[LAG].add_metric([s, durable], max(now - read.oldest, 0.0))
        if self._outbox is not None:
            rows, oldest = self._outbox
            families[OUTBOX_ROWS].add_metric([s], float(rows))
            age = max(now - oldest, 0.0) if oldest is not None else 0.0
            families[OUTBOX_AGE].add_metric([s], age)
        if self._dlq is not None:
            families[DLQ_MESSAGES].add_metric([s], float(self._dlq))
        for kind, count in self._timers.items():
            families[TIMERS].add_metric([s, kind], float(count))
        for file, ends in self._expiry.items():
            families[CERTIFICATES].add_metric([s, file], ends)


async def oldest_unacknowledged(
    js: JetStreamContext, stream: str, durable: str, filter_subject: str, after: int
) -> float | None:
    """The Unix time at which the first message on `filter_subject` from stream sequence
    `after` on was stored, read through `<durable>-lag` (see the module's docstring):
    its headers only, nothing acknowledged, the consumer deleted at once. None: there is
    no such message any more."""
    name = lag_consumer(durable)
    config = ConsumerConfig(
        name=name,
        filter_subject=filter_subject,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=max(after, 1),
        ack_policy=AckPolicy.NONE,
        headers_only=True,
        mem_storage=True,
        num_replicas=1,
        inactive_threshold=10.0,  # gone by itself if this process dies before deleting it
    )
    await js.add_consumer(stream, config, timeout=TIMEOUT)
    try:
        subscription = await js.pull_subscribe_bind(name, stream=stream)
        try:
            [msg] = await subscription.fetch(1, timeout=TIMEOUT)
        except (TimeoutError, NatsTimeoutError):
            return None
        finally:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
    finally:
        with contextlib.suppress(Exception):
            await js.delete_consumer(stream, name)
    return msg.metadata.timestamp.timestamp()


def servers_up(cluster: ClusterInfo | None) -> set[str]:
    """The servers a stream's or consumer's group reports up: its leader and its current
    replicas."""
    if cluster is None:
        return set()
    up = {cluster.leader} if cluster.leader else set()
    up |= {p.name for p in cluster.replicas or () if p.name and p.current and not p.offline}
    return up


def certificate_expiry(path: Path) -> float | None:
    """When the first of the PEM certificates in `path` to end ends (Unix time); None if
    the file is missing or holds no certificate."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        return None
    return min(c.not_valid_after_utc for c in certificates).timestamp()


def _families() -> dict[str, GaugeMetricFamily]:
    return {name: GaugeMetricFamily(name, doc, labels=labels) for name, doc, labels in GAUGES}


_LIVE: list[Figures] = []  # the started runtimes' figures: one per process, but in tests


class _Collector:
    """Every started runtime's figures, read when Prometheus scrapes."""

    def describe(self) -> list[Metric]:
        return list(_families().values())

    def collect(self) -> list[Metric]:
        families = _families()
        now = time.time()
        for figures in list(_LIVE):
            figures.add_to(families, now)
        return list(families.values())


REGISTRY.register(_Collector())
