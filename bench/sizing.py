"""Sizing benchmark: what a region's machine needs, measured on the whole stack as
`peerline up` runs it (every service its own process, SQLite, one nats-server).

A roster of supporters comes in by CSV; then incidents of three involved officers each
are reported over HTTP until every officer's assignment notification has been sent.
Printed, from that run:

- incidents/s and events/s carried from report to notification, and per core;
- each process's resident memory once the work is done;
- the disk each database and the NATS store took, per 100,000 incidents (scaled from
  the run, the empty stack's size taken off first).

    python bench/sizing.py [--incidents 1000] [--supporters 200]
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
from datetime import UTC, datetime
from pathlib import Path

import httpx
import nats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import portal  # noqa: E402  (bench/portal.py: the stack as `peerline up` runs it)

from shared.streams import EVENTS  # noqa: E402
from shared.tokens import issue_token  # noqa: E402
from shared.vocab import TrainingArea  # noqa: E402

AGENCY = "SIZING01"
OFFICERS_PER_INCIDENT = 3


def roster_csv(supporters: int) -> str:
    areas = [f"training_{area.value}" for area in TrainingArea]
    head = ["kind", "supporter_id", "personnel_id", "display_name", "max_open_assignments"]
    rows = [",".join(head + areas)]
    for n in range(supporters):
        cells = ["supporter", f"SZ-{n}", f"SZP-{n}", f"Peer {n}", "50"]
        rows.append(",".join(cells + ["2026-01-05/2099-01-05"] * len(areas)))
    return "\n".join(rows) + "\n"


def disk(data: Path) -> dict[str, int]:
    """Bytes per database (with its WAL) and for the NATS store."""
    sizes: dict[str, int] = {}
    for path in data.glob("*.db*"):
        name = path.name.split(".db")[0]
        sizes[name] = sizes.get(name, 0) + path.stat().st_size
    store = data / "nats"
    sizes["nats"] = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    return sizes


def memory(parent: int) -> dict[str, int]:
    """Resident kilobytes of each child of `peerline up` (the services, nats-server)."""
    listed = subprocess.run(
        ["ps", "--ppid", str(parent), "-o", "rss=,args="], capture_output=True, text=True
    ).stdout
    found = {}
    for line in listed.splitlines():
        rss, args = line.strip().split(None, 1)
        if "nats-server" in args:
            found["nats-server"] = int(rss)
        elif "services." in args:
            found[args.split("services.")[1].split()[0]] = int(rss)
    return found


async def notified(nats_url: str, wanted: int, timeout: float = 900.0) -> int:
    """Wait until `wanted` notifications were sent for the agency; the events stored."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    deadline = time.monotonic() + timeout
    try:
        while True:
            info = await js.stream_info(EVENTS.name, subjects_filter=f"ps.{AGENCY}.>")
            counts = info.state.subjects or {}
            if counts.get(f"ps.{AGENCY}.notification.sent", 0) >= wanted:
                return sum(counts.values())
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {counts} after {timeout:.0f} s")
            await asyncio.sleep(0.5)
    finally:
        await nc.close()


async def report_all(url: str, secret: str, incidents: int) -> None:
    token = issue_token(secret, agency=AGENCY, role="ingest")
    now = datetime.now(UTC).isoformat()
    queue = list(range(incidents))

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            n = queue.pop()
            body = {
                "external_id": f"SZ-{n}",
                "category": "officer_involved_shooting",
                "occurred_at": now,
                "involved": [
                    {"personnel_id": f"SO-{n}-{i}", "role": "primary"}
                    for i in range(OFFICERS_PER_INCIDENT)
                ],
            }
            answer = await client.post("/v1/incidents", json=body)
            answer.raise_for_status()

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(16)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--supporters", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        proc, urls, secret = portal.start_stack(workdir)
        data = workdir / ".peerline"
        try:
            coordinator = issue_token(secret, agency=AGENCY, role="coordinator")
            imported = httpx.post(
                urls["roster"] + "/v1/imports",
                content=roster_csv(args.supporters),
                headers={"Authorization": f"Bearer {coordinator}", "Content-Type": "text/csv"},
                timeout=120,
            )
            imported.raise_for_status()
            time.sleep(5)  # the services settle
            empty = disk(data)
            nats_url = json.loads((data / "stack.json").read_text())["nats_url"]
            start = time.perf_counter()
            asyncio.run(report_all(urls["incidents"], secret, args.incidents))
            events = asyncio.run(notified(nats_url, args.incidents * OFFICERS_PER_INCIDENT))
            elapsed = time.perf_counter() - start
            used = memory(proc.pid)
            full = disk(data)
        finally:
            proc.send_signal(2)
            proc.wait(60)
    cores = os.cpu_count() or 1
    print(
        f"\nSizing ({cores} cores, SQLite, one nats-server; {args.incidents} incidents of "
        f"{OFFICERS_PER_INCIDENT} officers, {args.supporters} supporters)"
    )
    print(
        f"incidents/s, report to every notification sent: {args.incidents / elapsed:.1f} "
        f"({args.incidents / elapsed / cores:.1f} per core)"
    )
    rate = events / elapsed
    print(f"events/s stored on the way: {rate:.0f} ({rate / cores:.0f} per core)")
    print(f"\n{'process':<14}{'memory MB':>10}")
    for name, kb in sorted(used.items()):
        print(f"{name:<14}{kb / 1024:>10.0f}")
    print(f"\n{'store':<14}{'MB per 100,000 incidents':>26}")
    scale = 100_000 / args.incidents
    for name in sorted(full):
        grown = max(full[name] - empty.get(name, 0), 0)
        print(f"{name:<14}{grown * scale / 1e6:>26.0f}")
    total = sum(max(full[n] - empty.get(n, 0), 0) for n in full) * scale / 1e6
    print(f"{'all':<14}{total:>26.0f}")


if __name__ == "__main__":
    main()
