"""Metrics backfill benchmark: how fast a new metrics deployment counts a backlog.

Publishes `--events` events of a busy region's year (incidents, assignments, contacts,
referrals, ratings, exceptions) to a fresh nats-server, then starts the metrics service's
consumers and times them until every durable has drained. Beside it, raw nats-py pull
consumption + ack of the same messages, the floor no consumer can beat.

    python bench/metrics.py [--events 50000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from consume import Raw, settled, wait  # noqa: E402
from scratch import scratch_database  # noqa: E402

from peerline.natsd import NatsServer  # noqa: E402
from services.metrics import subscribers  # noqa: E402
from services.metrics.app import MIGRATIONS  # noqa: E402
from shared import cloudevents  # noqa: E402
from shared.events import (  # noqa: E402
    ContactLogged,
    FeedbackSubmitted,
    IncidentReported,
    Involved,
    PeerAssigned,
    ReferralMade,
)
from shared.service import ServiceRuntime  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.streams import provision  # noqa: E402

AGENCIES = [f"BENCH{i:02d}" for i in range(20)]
START = datetime(2025, 1, 1, tzinfo=UTC)


def a_year(n: int):
    """`n` events spread over a year, in a plausible mix."""
    for i in range(n):
        agency = AGENCIES[i % len(AGENCIES)]
        at = START + timedelta(seconds=i * 365 * 86400 // n)
        kind = i % 10
        if kind == 0:
            yield IncidentReported(
                agency_id=agency,
                occurred_at=at,
                incident_id=uuid.uuid4(),
                external_id=f"B-{i}",
                category="fatal_collision",
                involved=[Involved(personnel_id=f"P{j}", role="primary") for j in range(3)],
            )
        elif kind in (1, 2):
            yield PeerAssigned(
                agency_id=agency,
                occurred_at=at,
                assignment_id=uuid.uuid4(),
                incident_id=uuid.uuid4(),
                personnel_id=f"P{i}",
                supporter_id=f"S{i % 300}",
                supporter_agency_id=agency,
                incident_occurred_at=at,
            )
        elif kind in (3, 4, 5, 6):
            yield ContactLogged(
                agency_id=agency,
                occurred_at=at,
                contact_id=uuid.uuid4(),
                supporter_id=f"S{i % 300}",
                officer_ref=f"{i % 5000:032x}",
                initiated_by="scheduled_checkin",
                channel="phone",
                duration_bucket="15_30m",
                outcome="support_provided",
            )
        elif kind in (7, 8):
            yield ReferralMade(
                agency_id=agency,
                occurred_at=at,
                referral_id=uuid.uuid4(),
                contact_id=uuid.uuid4(),
                resource_type="eap",
                resource_id="R1",
                urgency="routine",
            )
        else:
            yield FeedbackSubmitted(
                agency_id=agency, occurred_at=at, rating=4, would_recommend=True
            )


async def publish(js, n: int) -> None:
    futures = []
    for event in a_year(n):
        payload, headers = cloudevents.encode(event, source="bench")
        futures.append(await js.publish_async(event.subject, payload, headers=headers))
    await asyncio.gather(*futures)


async def measure(args, nats_url: str, database_url: str, workdir: Path) -> dict:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    await publish(js, args.events)

    raw = Raw(js, "bench-raw", subject="ps.>")
    start = time.perf_counter()
    task = asyncio.create_task(raw.run())
    end = await wait(lambda: settled(js, "bench-raw"))
    raw_eps = args.events / (end - start)
    task.cancel()

    settings = Settings(
        service="metrics",
        nats_url=nats_url,
        database_url=database_url,
        data_dir=workdir,
        id_key="bench-ids-" + "i" * 32,
    )
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS)
    subscribers.register(runtime)
    async with runtime.lifespan(None):
        start = time.perf_counter()
        end = await wait(lambda: settled(js, "metrics-events"))
    await nc.close()
    return {"eps": args.events / (end - start), "raw_eps": raw_eps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="peerline-bench-"))
    with (
        NatsServer(workdir / "nats") as server,
        scratch_database(args.database_url, workdir, "metrics") as database_url,
    ):
        r = uvloop.run(measure(args, server.url, database_url, workdir))
    db = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
    print(f"\nMetrics backfill ({os.cpu_count()} cores, {db}, {args.events} events waiting)")
    print(f"{'measure':<40}{'metrics':>10}{'raw pull':>10}{'ratio':>8}")
    print(
        f"{'events/s of backfill':<40}{r['eps']:>10.0f}{r['raw_eps']:>10.0f}"
        f"{r['eps'] / r['raw_eps']:>8.2f}"
    )


if __name__ == "__main__":
    main()
