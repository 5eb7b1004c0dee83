"""Consumer benchmark: the kernel's batched consumer beside raw JetStream consumption.

Prints, measured in the same run on the same machine:
- events/s sustained by a consumer that, per event, writes an inbox row, one effect row
  and one outbox event (published by the relay before the clock stops), draining a
  backlog of `--events` events;
- the time to settle a burst of `--burst` events published while the consumer idles;
- beside both, raw nats-py pull consumption + ack of the same messages (the floor no
  consumer on this bus can beat).

The consumer is the test suite's `effects` service (`tests/support/effects.py`) on
SQLite (default; WAL, synchronous=FULL) or the database given by --database-url.

    python bench/consume.py [--events 20000] [--burst 500] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import nats
import uvloop  # the services' event loop under uvicorn
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch import scratch_database  # noqa: E402

from peerline.natsd import NatsServer  # noqa: E402
from shared import cloudevents  # noqa: E402
from shared.events import FeedbackSubmitted  # noqa: E402
from shared.streams import EVENTS, provision  # noqa: E402
from tests.support.effects import effects_runtime  # noqa: E402

AGENCIES = ("BENCH01", "BENCH02", "BENCH03", "BENCH04")


async def publish(js, n: int) -> None:
    """`n` FeedbackSubmitted events, all in flight at once, then their acks awaited."""
    futures = []
    for i in range(n):
        event = FeedbackSubmitted(
            agency_id=AGENCIES[i % len(AGENCIES)], rating=1 + i % 5, would_recommend=True
        )
        payload, headers = cloudevents.encode(event, source="bench")
        futures.append(await js.publish_async(event.subject, payload, headers=headers))
    await asyncio.gather(*futures)


async def settled(js, durable: str) -> bool:
    try:
        info = await js.consumer_info(EVENTS.name, durable)
    except NotFoundError:  # not created yet
        return False
    return info.delivered.stream_seq > 0 and info.num_pending == 0 and info.num_ack_pending == 0


async def subscribed(runtime) -> bool:
    return runtime.consumers[0].subscribed


async def published_effects(js, total: int) -> bool:
    info = await js.stream_info(EVENTS.name, subjects_filter="ps.*.notification.sent")
    return sum((info.state.subjects or {}).values()) >= total


async def wait(condition, timeout: float = 600.0) -> float:
    deadline = time.perf_counter() + timeout
    while not await condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the consumer did not settle")
        await asyncio.sleep(0.01)
    return time.perf_counter()


class Raw:
    """nats-py pull consumption + ack of everything on the feedback subjects."""

    def __init__(self, js, durable: str, subject: str = "ps.*.feedback.submitted") -> None:
        self.js, self.durable, self.subject, self.count = js, durable, subject, 0

    async def run(self) -> None:
        sub = await self.js.pull_subscribe(
            self.subject,
            durable=self.durable,
            stream=EVENTS.name,
            config=ConsumerConfig(max_ack_pending=10_000),
        )
        while True:
            try:
                msgs = await sub.fetch(256, timeout=5)
            except (TimeoutError, nats.errors.TimeoutError):
                continue
            for msg in msgs:
                await msg.ack()
            self.count += len(msgs)


async def measure(
    args: argparse.Namespace, nats_url: str, database_url: str, workdir: Path
) -> dict:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    result = {}

    # Backlog: published first, then drained by each consumer in turn.
    await publish(js, args.events)
    raw = Raw(js, "bench-raw")
    start = time.perf_counter()
    task = asyncio.create_task(raw.run())
    end = await wait(lambda: settled(js, "bench-raw"))
    result["raw_eps"] = args.events / (end - start)

    runtime = effects_runtime(nats_url, database_url, workdir)
    async with runtime.lifespan(None):
        await wait(lambda: subscribed(runtime))
        start = time.perf_counter()
        await wait(lambda: settled(js, "effects"))
        end = await wait(lambda: published_effects(js, args.events))
        result["eps"] = args.events / (end - start)

        # Burst: published while both consumers idle; until both have settled it.
        done_before = args.events
        start = time.perf_counter()
        await publish(js, args.burst)
        raw_end = await wait(lambda: settled(js, "bench-raw"))
        ours_end = await wait(lambda: published_effects(js, done_before + args.burst))
        await wait(lambda: settled(js, "effects"))
        result["raw_burst_ms"] = (raw_end - start) * 1000
        result["burst_ms"] = (ours_end - start) * 1000
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await nc.close()
    return result


def report(args: argparse.Namespace, r: dict) -> None:
    db = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
    print(f"\nConsumer ({os.cpu_count()} cores, {db})")
    print(f"{'measure':<52}{'Peerline':>10}{'raw pull':>10}{'ratio':>8}")
    rows = [
        (f"events/s sustained ({args.events} waiting)", r["eps"], r["raw_eps"], "{:.0f}"),
        (f"ms to settle a burst of {args.burst}", r["burst_ms"], r["raw_burst_ms"], "{:.0f}"),
    ]
    for label, ours, base, fmt in rows:
        print(f"{label:<52}{fmt.format(ours):>10}{fmt.format(base):>10}{ours / base:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="peerline-bench-"))
    with (
        NatsServer(workdir / "nats") as server,
        scratch_database(args.database_url, workdir, "effects") as database_url,
    ):
        result = uvloop.run(measure(args, server.url, database_url, workdir))
    report(args, result)


if __name__ == "__main__":
    main()
