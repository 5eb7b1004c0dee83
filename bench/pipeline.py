"""Pipeline benchmark: the whole chain, from a CAD's report to each supporter's
`NotificationSent`, on the stack as `peerline up` runs it (every service its own
process, SQLite, one nats-server).

Prints, measured in the same run:
- at rising rates of incidents (three officers each), the incidents/s carried all the
  way to notification and p50/p99 from report to the incident's last notification,
  until the chain no longer keeps up;
- a 500-officer mass casualty, from report to its last notification;
- the floor beside them: raw nats-py JetStream publish -> consume -> publish through the
  same three hops (intake, incident, assignment -> notification) with payloads of the
  same size, at the same rates.

    python bench/pipeline.py [--rates 10,20,40,80] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy, StreamConfig

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sizing  # noqa: E402  (bench/sizing.py: the agency of the roster)
import stack  # noqa: E402  (bench/stack.py: the stack as `peerline up` runs it, a roster)

from shared.streams import EVENTS  # noqa: E402
from shared.tokens import issue_token  # noqa: E402

AGENCY = sizing.AGENCY
OFFICERS = 3
KEEPS_UP = 0.9  # of the offered rate, carried end to end
PAYLOAD = 700  # bytes, about a report of three officers


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0


class Chain:
    """Peerline's chain: reports over HTTP, times read back from the events."""

    def __init__(self, urls: dict, secret: str, nats_url: str) -> None:
        self.urls, self.nats_url = urls, nats_url
        self.token = issue_token(secret, agency=AGENCY, role="ingest")
        self.sent: dict[str, float] = {}  # incident_id -> when its report went
        self.cause: dict[str, str] = {}  # PeerAssigned event id -> incident_id
        self.notified: dict[str, list[float]] = {}  # incident_id -> notification times

    async def start(self) -> None:
        self.nc = await nats.connect(self.nats_url)
        js = self.nc.jetstream()

        async def assigned(msg) -> None:
            body = json.loads(msg.data)
            self.cause[body["event_id"]] = body["incident_id"]

        async def sent(msg) -> None:
            incident = self.cause.get(json.loads(msg.data)["cause_event_id"])
            if incident is not None:
                self.notified.setdefault(incident, []).append(time.perf_counter())

        for subject, handler in (("assignment.made", assigned), ("notification.sent", sent)):
            await js.subscribe(
                f"ps.{AGENCY}.{subject}",
                stream=EVENTS.name,
                cb=handler,
                ordered_consumer=True,
                config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
                pending_msgs_limit=1_000_000,
            )
        self.http = httpx.AsyncClient(
            base_url=self.urls["incidents"],
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
            limits=httpx.Limits(max_connections=64),
        )

    async def send(self, key: str, officers: int = OFFICERS) -> str:
        body = {
            "external_id": key,
            "category": "officer_involved_shooting",
            "occurred_at": datetime.now(UTC).isoformat(),
            "involved": [
                {"personnel_id": f"{key}-{i}", "role": "primary"} for i in range(officers)
            ],
        }
        started = time.perf_counter()
        answer = await self.http.post("/v1/incidents", json=body)
        answer.raise_for_status()
        incident = answer.json()["incident_id"]
        self.sent[incident] = started
        return incident

    def done(self, incident: str, officers: int = OFFICERS) -> float | None:
        times = self.notified.get(incident, [])
        return max(times) if len(times) >= officers else None

    async def close(self) -> None:
        await self.http.aclose()
        await self.nc.close()


class Raw:
    """The floor: the same hops with nats-py alone, each a pull consumer republishing."""

    def __init__(self, nats_url: str) -> None:
        self.nats_url = nats_url
        self.sent: dict[str, float] = {}
        self.notified: dict[str, list[float]] = {}

    async def start(self) -> None:
        self.nc = await nats.connect(self.nats_url)
        self.js = self.nc.jetstream()
        await self.js.add_stream(StreamConfig(name="BENCH_RAW", subjects=["bench.raw.>"]))
        hops = (
            ("intake", "reported", 1),
            ("reported", "assigned", OFFICERS),
            ("assigned", "sent", 1),
        )
        self.tasks = [asyncio.create_task(self._hop(*hop)) for hop in hops]
        await self.nc.subscribe("bench.raw.sent", cb=self._sent)

    async def _hop(self, source: str, target: str, fan: int) -> None:
        sub = await self.js.pull_subscribe(f"bench.raw.{source}", durable=f"raw-{source}")
        while True:
            try:
                msgs = await sub.fetch(64, timeout=1)
                for msg in msgs:
                    for i in range(fan):
                        await self.js.publish(
                            f"bench.raw.{target}", msg.data, headers={"i": str(i)}
                        )
                    await msg.ack()
            except nats.errors.TimeoutError:
                continue  # nothing to fetch, or a publish timed out: it comes back

    async def _sent(self, msg) -> None:
        key = msg.data[:40].decode().strip()
        self.notified.setdefault(key, []).append(time.perf_counter())

    async def send(self, key: str) -> str:
        self.sent[key] = time.perf_counter()
        await self.js.publish("bench.raw.intake", key.ljust(PAYLOAD).encode())
        return key

    def done(self, key: str, officers: int = OFFICERS) -> float | None:
        times = self.notified.get(key, [])
        return max(times) if len(times) >= officers else None

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.js.delete_stream("BENCH_RAW")
        await self.nc.close()


async def at_rate(chain, rate: float, seconds: float, tag: str) -> dict:
    """Open-loop sends at `rate`/s for `seconds`; carried/s and latencies to the last
    notification of each incident."""
    count = int(rate * seconds)
    keys: list[str] = []
    start = time.perf_counter()
    pending = []
    for n in range(count):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(chain.send(f"{tag}-{n}")))
    keys = await asyncio.gather(*pending)
    deadline = time.perf_counter() + max(30.0, seconds * 3)
    while any(chain.done(k) is None for k in keys) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    finished = [chain.done(k) for k in keys]
    carried = [f for f in finished if f is not None]
    last = max(carried) if carried else time.perf_counter()
    return {
        "rate": rate,
        "carried": len(carried) / (last - start),
        "complete": len(carried) == count,
        "ms": [(f - chain.sent[k]) * 1000 for k, f in zip(keys, finished, strict=True) if f],
    }


async def mass_casualty(chain: Chain, officers: int = 500) -> float:
    incident = await chain.send("MASS-1", officers)
    deadline = time.perf_counter() + 120
    while chain.done(incident, officers) is None and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    finished = chain.done(incident, officers)
    return (finished - chain.sent[incident]) if finished else float("inf")


async def run(args, urls: dict, secret: str, nats_url: str) -> tuple[list, list, float]:
    chain, raw = Chain(urls, secret, nats_url), Raw(nats_url)
    await chain.start()
    await raw.start()
    ours, floor = [], []
    try:
        # The floor first, on the same server before the stack has work to catch up on.
        for rate in args.rates:
            floor.append(await at_rate(raw, rate, args.seconds, f"raw{rate}"))
        await raw.close()
        await at_rate(chain, 5, 2, "warm")
        for rate in args.rates:
            ours.append(await at_rate(chain, rate, args.seconds, f"r{rate}"))
            if not ours[-1]["complete"] or ours[-1]["carried"] < KEEPS_UP * rate:
                break  # the chain no longer keeps up
        mass = await mass_casualty(chain)
    finally:
        await chain.close()
    return ours, floor, mass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="10,20,40,80")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--supporters", type=int, default=120)
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",")]
    with stack.running(args.supporters) as up:
        ours, floor, mass = asyncio.run(run(args, up.urls, up.secret, up.nats_url))
    print(
        f"\nPipeline: report -> NotificationSent, {OFFICERS} officers per incident, "
        f"whole stack on SQLite, {args.seconds:g} s per rate"
    )
    print(
        f"{'offered/s':>10}{'carried/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'raw carried/s':>15}{'raw p50':>9}{'raw p99':>9}"
    )
    for mine, base in zip(ours, floor, strict=False):
        print(
            f"{mine['rate']:>10.0f}{mine['carried']:>11.1f}{percentile(mine['ms'], 50):>9.0f}"
            f"{percentile(mine['ms'], 99):>9.0f}{base['carried']:>15.1f}"
            f"{percentile(base['ms'], 50):>9.0f}{percentile(base['ms'], 99):>9.0f}"
            + ("" if mine["complete"] else "  (did not keep up)")
        )
    print(f"\nA 500-officer mass casualty, report to its last notification: {mass:.1f} s")


if __name__ == "__main__":
    main()
