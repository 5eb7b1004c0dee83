"""Intake benchmark: HTTP report -> `IncidentReported` observed on the bus.

Prints, measured in the same run on the same machine:
- sustained reports/s through `POST /v1/incidents` until every `IncidentReported` has
  reached a JetStream subscriber, and the same for reports published to
  `ps.<agency>.intake.incident`, beside raw nats-py JetStream publishes of the same
  payload (the floor no service can beat);
- p50/p99 latency from sending a report to seeing its event, at a fixed rate, beside
  the same for raw publishes.

The incidents service runs as its own process, as under `peerline up`, on SQLite
(default) or the database given by --database-url. The load comes from a minimal
keep-alive HTTP/1.1 client so that, on a 2-core machine, the client is not what is
measured.

    python bench/intake.py [--reports 5000] [--rate 200] [--seconds 10] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch import scratch_database  # noqa: E402

from peerline.natsd import NatsServer, free_port  # noqa: E402
from shared.streams import EVENTS, provision  # noqa: E402
from shared.tokens import issue_token  # noqa: E402

SECRET = "bench-" + "s" * 40
AGENCY = "BENCH01"


def payload(external_id: str) -> bytes:
    return json.dumps(
        {
            "external_id": external_id,
            "source_type": "SHOOT",
            "occurred_at": "2026-11-25T22:14:00-06:00",
            "involved": [
                {"personnel_id": "B1234", "role": "primary"},
                {"personnel_id": "B2345", "role": "assisting"},
                {"personnel_id": "D-77", "role": "dispatcher"},
            ],
        }
    ).encode()


class HttpPool:
    """Keep-alive HTTP/1.1 connections, one request in flight on each."""

    def __init__(self, port: int, token: str, size: int) -> None:
        self.port = port
        self.head = (
            f"POST /v1/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        ).encode()
        self.size = size
        self.idle: asyncio.Queue = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self.size):
            self.idle.put_nowait(await asyncio.open_connection("127.0.0.1", self.port))

    async def post(self, body: bytes) -> None:
        connection = await self.idle.get()
        try:
            try:
                answer = await self._exchange(connection, body)
            except (asyncio.IncompleteReadError, ConnectionError):
                # The server closed an idle keep-alive connection: open a new one. A
                # report sent twice is answered `duplicate`, so the retry is safe.
                connection[1].close()
                connection = await asyncio.open_connection("127.0.0.1", self.port)
                answer = await self._exchange(connection, body)
        finally:
            self.idle.put_nowait(connection)
        if not answer.startswith(b"HTTP/1.1 202"):
            raise RuntimeError(answer[:300])

    async def _exchange(self, connection, body: bytes) -> bytes:
        reader, writer = connection
        writer.write(self.head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        return head + await reader.readexactly(length)

    async def close(self) -> None:
        while not self.idle.empty():
            _, writer = self.idle.get_nowait()
            writer.close()


class Observer:
    """Records when each report's event is first seen by a JetStream subscriber."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.seen: dict[str, float] = {}

    async def start(self, nc) -> None:
        async def on_msg(msg) -> None:
            self.seen.setdefault(json.loads(msg.data)["external_id"], time.perf_counter())

        await nc.jetstream().subscribe(
            self.subject,
            stream=EVENTS.name,
            cb=on_msg,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
            pending_msgs_limit=1_000_000,
        )

    async def wait(self, keys: list[str], timeout: float = 120.0) -> float:
        deadline = time.perf_counter() + timeout
        while any(k not in self.seen for k in keys):
            if time.perf_counter() > deadline:
                missing = sum(k not in self.seen for k in keys)
                raise TimeoutError(f"{missing} events never arrived")
            await asyncio.sleep(0.005)
        return max(self.seen[k] for k in keys)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def sustained(send, keys: list[str], observer: Observer, concurrency: int) -> float:
    """Reports/s from the first send to the last event seen, `concurrency` in flight."""
    queue = list(reversed(keys))

    async def worker() -> None:
        while queue:
            await send(queue.pop())

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(keys) / (await observer.wait(keys) - start)


async def fixed_rate(
    send, keys: list[str], observer: Observer, rate: float
) -> tuple[list[float], list[float]]:
    """Milliseconds from each send to its answer and to its event, sending open-loop at
    `rate` per second."""
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}

    async def timed(key: str) -> None:
        await send(key)
        answered[key] = time.perf_counter()

    tasks = []
    start = time.perf_counter()
    for i, key in enumerate(keys):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[key] = time.perf_counter()
        tasks.append(asyncio.create_task(timed(key)))
    await asyncio.gather(*tasks)
    await observer.wait(keys)
    return (
        [(answered[k] - sent[k]) * 1000 for k in keys],
        [(observer.seen[k] - sent[k]) * 1000 for k in keys],
    )


def start_service(workdir: Path, nats_url: str, port: int, database_url: str, workers: int = 1):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PEERLINE_SERVICE": "incidents",
        "PEERLINE_NATS_URL": nats_url,
        "PEERLINE_DATA_DIR": str(workdir),
        "PEERLINE_DATABASE_URL": database_url,
        "PEERLINE_PORT": str(port),
        "PEERLINE_JWT_SECRET": SECRET,
        "PEERLINE_WORKERS": str(workers),
        "PEERLINE_ID_KEY": "bench-ids-" + "i" * 32,
    }
    with open(workdir / "incidents.log", "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "services.incidents"], env=env, stdout=log, stderr=log
        )


async def wait_ready(port: int, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            status = await reader.readline()
            writer.close()
            if b" 200 " in status:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise TimeoutError("incidents did not become ready")


async def measure(args: argparse.Namespace, nats_url: str, port: int) -> dict:
    await wait_ready(port)
    token = issue_token(SECRET, agency=AGENCY, role="ingest", ttl=timedelta(hours=2))
    pool = HttpPool(port, token, args.concurrency)
    await pool.open()
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    via_http = Observer(f"ps.{AGENCY}.incident.reported")
    via_raw = Observer(f"ps.{AGENCY}.incident.updated")  # same stream, its own subject
    await via_http.start(nc)
    await via_raw.start(nc)

    async def send_http(key: str) -> None:
        await pool.post(payload(key))

    async def send_nats(key: str) -> None:
        await js.publish(f"ps.{AGENCY}.intake.incident", payload(key), timeout=10)

    async def send_raw(key: str) -> None:
        await js.publish(
            via_raw.subject, payload(key), timeout=10, headers={"Nats-Msg-Id": f"raw-{key}"}
        )

    warm = [f"warm-{i}" for i in range(300)]
    await sustained(send_http, warm, via_http, args.concurrency)
    await sustained(send_raw, warm, via_raw, args.concurrency)
    n, m = args.reports, int(args.rate * args.seconds)
    result = {
        "http_rps": await sustained(
            send_http, [f"s-{i}" for i in range(n)], via_http, args.concurrency
        ),
        "raw_rps": await sustained(
            send_raw, [f"s-{i}" for i in range(n)], via_raw, args.concurrency
        ),
        "nats_rps": await sustained(
            send_nats, [f"n-{i}" for i in range(n)], via_http, args.concurrency
        ),
    }
    result["http_ack_ms"], result["http_ms"] = await fixed_rate(
        send_http, [f"r-{i}" for i in range(m)], via_http, args.rate
    )
    result["raw_ack_ms"], result["raw_ms"] = await fixed_rate(
        send_raw, [f"r-{i}" for i in range(m)], via_raw, args.rate
    )
    await pool.close()
    await nc.close()
    return result


def report(args: argparse.Namespace, r: dict) -> None:
    db = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
    rows = [
        (f"sustained reports/s ({args.reports} reports)", r["http_rps"], r["raw_rps"], "{:.0f}"),
        ("  the same over NATS intake", r["nats_rps"], r["raw_rps"], "{:.0f}"),
    ]
    for what, ours, base in (
        ("event", "http_ms", "raw_ms"),
        ("answer", "http_ack_ms", "raw_ack_ms"),
    ):
        for label, p in (("p50", 50), ("p99", 99)):
            rows.append(
                (
                    f"{label} ms, send to {what}, at {args.rate:.0f}/s for {args.seconds:.0f} s",
                    percentile(r[ours], p),
                    percentile(r[base], p),
                    "{:.1f}",
                )
            )
    processes = f"{args.workers} service process{'es' if args.workers > 1 else ''}"
    print(f"\nIntake ({os.cpu_count()} cores, {db}, {args.concurrency} connections, {processes})")
    print(f"{'measure':<46}{'HTTP intake':>12}{'raw publish':>13}{'ratio':>8}")
    for label, ours, base, fmt in rows:
        print(f"{label:<46}{fmt.format(ours):>12}{fmt.format(base):>13}{ours / base:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=1, help="service processes")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="peerline-bench-"))
    with (
        NatsServer(workdir / "nats") as server,
        scratch_database(args.database_url, workdir, "incidents") as database_url,
    ):
        port = free_port()
        service = start_service(workdir, server.url, port, database_url, args.workers)
        try:
            result = asyncio.run(measure(args, server.url, port))
        finally:
            service.terminate()
            service.wait(timeout=15)
    report(args, result)


if __name__ == "__main__":
    main()
