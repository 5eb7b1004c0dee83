"""Timers benchmark: check-ins held by the bus, their memory, scheduling rate and lateness.

Prints, measured in the same run on the same machine:
- the check-ins service's resident memory with 1,000 check-ins pending and with
  `--pending` (100,000) pending, each with its three timers (due, window close, expiry)
  waiting on the bus as message schedules: it should not grow with them, since the bus
  holds the timers and the service holds no timer state; the NATS server's beside it;
- check-ins scheduled per second, and timers stored per second (three per check-in),
  from the first `PeerAssigned` published (pipelined, as the roster's outbox does) to
  the last `CheckInScheduled` stored, beside raw `shared.timers.schedule_many` of the
  same kind of timers from this process (the floor: one client storing schedules), and
  the service's CPU time per check-in;
- lateness of firing, with due times compressed to seconds: `--checkins` assignments of
  another agency whose offers fall due spread over `--spread` seconds, each measured
  from its `due_at` (in its `CheckInScheduled`) to its `CheckInDue` stored in the
  CHECKINS stream, p50/p99/max, first with 1,000 pending, then with `--pending`; beside
  it the timer's own fired message (the bus alone) and the `CheckInDue` as a subscriber
  here receives it. Target: p99 under 1 s.

The check-ins service runs as its own process (`python -m services.checkins`, as under
`peerline up`) on a real nats-server, on SQLite (default; WAL, synchronous=FULL) or a
scratch database beside --database-url (PostgreSQL), dropped afterwards.

    python bench/timers.py [--pending 100000] [--checkins 2000] [--spread 10]
                           [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import nats
import uvloop  # the services' event loop under uvicorn
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratch import scratch_database  # noqa: E402

from peerline.natsd import NatsServer, free_port  # noqa: E402
from peerline.process import log_tail, spawn, terminate  # noqa: E402
from shared import bus, cloudevents  # noqa: E402
from shared.events import PeerAssigned  # noqa: E402
from shared.streams import CHECKINS, EVENTS  # noqa: E402
from shared.timers import Timer, schedule_many  # noqa: E402
from shared.tokens import issue_token  # noqa: E402
from shared.vocab import AssignmentReason, Category  # noqa: E402

SECRET = "bench-" + "s" * 40
PENDING = "BENCHP"  # check-ins far in the future: they stay pending
BASELINE = 1_000  # the pending population of the first lateness round
FAR = {"first_offer_after": "P20D", "window_closes_after": "P21D", "follow_ups": []}
WINDOW = "PT1H"  # the compressed policy's window: only due timers fire while measuring
CHUNK = 5_000  # PeerAssigned per `publish_many`
DURABLE = "checkins-assignments"


def assignment(agency: str, i: int, occurred_at: datetime) -> PeerAssigned:
    return PeerAssigned(
        agency_id=agency,
        assignment_id=uuid.uuid4(),
        incident_id=uuid.uuid4(),
        personnel_id=f"B{i:06d}",
        supporter_id=f"S-{i % 97:02d}",
        supporter_agency_id=agency,
        reasons=[AssignmentReason.AVAILABLE_NOW],
        category=Category.OFFICER_INVOLVED_SHOOTING,
        incident_occurred_at=occurred_at,
    )


def encoded(events: list[PeerAssigned]) -> list[bus.Outgoing]:
    out = []
    for event in events:
        payload, headers = cloudevents.encode(event, source="peerline/roster")
        out.append((event.subject, payload, headers))
    return out


async def publish(js, messages: list[bus.Outgoing]) -> None:
    for at in range(0, len(messages), CHUNK):
        stored, error = await bus.publish_many(js, messages[at : at + CHUNK], timeout=60)
        if error is not None:
            raise RuntimeError(f"publishing assignments: {error!r} after {stored}")


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def cpu_s(pid: int) -> float:
    """CPU seconds `pid` has used (user + system, all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def settled_rss(pid: int, readings: int = 7, every: float = 0.5) -> float:
    """MiB: the median of several readings, so one allocation burst does not count."""
    values = []
    for _ in range(readings):
        values.append(rss_kib(pid) / 1024)
        await asyncio.sleep(every)
    return statistics.median(values)


def start_checkins(workdir: Path, nats_url: str, database_url: str):
    """The check-ins service as `peerline up` starts it: `python -m services.checkins`."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
        "PEERLINE_SERVICE": "checkins",
        "PEERLINE_NATS_URL": nats_url,
        "PEERLINE_DATA_DIR": str(workdir),
        "PEERLINE_DATABASE_URL": database_url,
        "PEERLINE_HOST": "127.0.0.1",
        "PEERLINE_PORT": str(port),
        "PEERLINE_JWT_SECRET": SECRET,
        "PEERLINE_PSEUDONYM_KEY": "bench-pseudonyms-" + "p" * 32,
        "PEERLINE_ID_KEY": "bench-ids-" + "i" * 32,
    }
    process = spawn([sys.executable, "-m", "services.checkins"], workdir / "checkins.log", env)
    return process, port


async def wait_ready(port: int, process, timeout: float = 60.0) -> None:
    """Until `GET /readyz` answers 200: migrated, on the bus, its consumers bound."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the check-ins service exited with {process.returncode}")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("the check-ins service did not become ready")


async def set_policy(port: int, agency: str, policy: dict) -> None:
    token = issue_token(SECRET, agency=agency, role="coordinator", ttl=timedelta(hours=2))
    async with httpx.AsyncClient(trust_env=False) as client:
        answer = await client.put(
            f"http://127.0.0.1:{port}/v1/policies/default",
            json={"anniversary_after": None, "follow_ups": [], **policy},
            headers={"Authorization": f"Bearer {token}"},
        )
    if answer.status_code != 200:
        raise RuntimeError(f"PUT /v1/policies/default: {answer.status_code} {answer.text}")


async def count(js, subject_filter: str) -> int:
    """Messages in the CHECKINS stream on `subject_filter`, from a throwaway consumer's
    pending count (a stream info listing 300,000 subjects would be the heavier way)."""
    info = await js.add_consumer(
        CHECKINS.name,
        ConsumerConfig(
            filter_subject=subject_filter,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=10.0,
        ),
    )
    await js.delete_consumer(CHECKINS.name, info.name)
    return info.num_pending


async def scheduled(js, agency: str) -> int:
    subject = f"ps.{agency}.checkin.scheduled"
    info = await js.stream_info(CHECKINS.name, subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


async def grow(js, process, agency: str, have: int, want: int) -> dict:
    """Publish `want - have` assignments of `agency` pipelined; time them until the last
    `CheckInScheduled` is stored, the service's consumer has acked them all and every
    timer is on the bus."""
    now = datetime.now(UTC)
    messages = encoded([assignment(agency, i, now) for i in range(have, want)])
    cpu = cpu_s(process.pid)
    started = time.time()
    await publish(js, messages)
    published = time.time()
    drained = None
    deadline = time.monotonic() + 60 + (want - have) / 100
    while (n := await scheduled(js, agency)) < want:
        if process.poll() is not None:
            raise RuntimeError(f"the check-ins service exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{n} of {want} check-ins scheduled")
        if drained is None:
            info = await js.consumer_info(EVENTS.name, DURABLE)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                drained = time.time()
        await asyncio.sleep(0.1)
    last = await js.get_last_msg(CHECKINS.name, f"ps.{agency}.checkin.scheduled")
    cpu = cpu_s(process.pid) - cpu
    finished = last.time.timestamp()
    timers = await count(js, f"ps.{agency}.checkin.timer.>")
    if timers != 3 * want:
        raise AssertionError(f"{timers} timers pending, expected {3 * want}")
    n = want - have
    return {
        "n": n,
        "publish_s": published - started,
        "consumed_s": (drained or finished) - started,
        "scheduled_s": finished - started,
        "checkins_per_s": n / (finished - started),
        "cpu_ms": cpu * 1000 / n,
        "timers": timers,
    }


class Round:
    """One lateness round: times on the bus per check-in of one agency."""

    def __init__(self, agency: str) -> None:
        self.agency = agency
        self.due_at: dict[str, float] = {}  # checkin_id -> due_at of its CheckInScheduled
        self.planned: dict[str, float] = {}  # checkin_id -> when its CheckInScheduled was stored
        self.fired: dict[str, float] = {}  # -> when its due timer's fired message was stored
        self.due: dict[str, float] = {}  # -> when its CheckInDue was stored
        self.received: dict[str, float] = {}  # -> when a subscriber here got its CheckInDue

    async def start(self, js) -> None:
        def stored(msg) -> float:
            return msg.metadata.timestamp.timestamp()

        async def on_scheduled(msg) -> None:
            body = json.loads(msg.data)
            self.due_at[body["checkin_id"]] = datetime.fromisoformat(body["due_at"]).timestamp()
            self.planned[body["checkin_id"]] = stored(msg)

        async def on_fired(msg) -> None:
            self.fired.setdefault(json.loads(msg.data)["checkin_id"], stored(msg))

        async def on_due(msg) -> None:
            got = time.time()
            checkin_id = json.loads(msg.data)["checkin_id"]
            self.due.setdefault(checkin_id, stored(msg))
            self.received.setdefault(checkin_id, got)

        for subject, cb in (
            ("scheduled", on_scheduled),
            ("fired.due", on_fired),
            ("due", on_due),
        ):
            await js.subscribe(
                f"ps.{self.agency}.checkin.{subject}",
                stream=CHECKINS.name,
                cb=cb,
                ordered_consumer=True,
                config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
                pending_msgs_limit=1_000_000,
            )

    def lateness_ms(self, what: dict[str, float]) -> list[float]:
        return [(what[k] - self.due_at[k]) * 1000 for k in self.due_at]


async def lateness(js, process, port: int, agency: str, n: int, spread: float, rate: float) -> dict:
    """`n` assignments of incidents that happened over the last `spread` seconds, under
    a policy whose first offer comes a few seconds later than the service needs to
    schedule them all at `rate` check-ins/s: their offers fall due spread over
    `spread` seconds, on a service that is otherwise idle."""
    margin = 3.0 + 1.5 * n / rate
    lead = math.ceil(margin + spread)
    await set_policy(
        port, agency, {"first_offer_after": f"PT{lead}S", "window_closes_after": WINDOW}
    )
    r = Round(agency)
    await r.start(js)
    now = datetime.now(UTC)
    events = [
        assignment(agency, i, now - timedelta(seconds=spread * (1 - i / n))) for i in range(n)
    ]
    await publish(js, encoded(events))
    deadline = time.monotonic() + lead + 120
    while len(r.due_at) < n or len(r.due) < n or len(r.fired) < n:
        if process.poll() is not None:
            raise RuntimeError(f"the check-ins service exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"saw {len(r.due_at)} scheduled, {len(r.due)} due of {n}")
        await asyncio.sleep(0.05)
    return {
        "n": n,
        "due_ms": r.lateness_ms(r.due),
        "fired_ms": r.lateness_ms(r.fired),
        "received_ms": r.lateness_ms(r.received),
        # Scheduled after its due time had passed (so due at once): the margin was short.
        "late_planned": sum(r.planned[k] > r.due_at[k] for k in r.due_at),
        "margin_s": lead - spread,
    }


async def raw_schedules(js, n: int) -> float:
    """Timers/s storing `n` far-future timers straight from here with `schedule_many`."""
    fire_at = datetime.now(UTC) + timedelta(days=20)
    timers = [
        Timer(
            subject=f"ps.BENCHRAW.checkin.timer.{uuid.uuid4()}.due",
            fire_at=fire_at,
            target="ps.BENCHRAW.checkin.fired.due",
            payload=b'{"agency_id":"BENCHRAW"}',
        )
        for _ in range(n)
    ]
    started = time.perf_counter()
    for at in range(0, n, CHUNK):
        stored, error = await schedule_many(js, timers[at : at + CHUNK], timeout=60)
        if error is not None:
            raise RuntimeError(f"raw schedules: {error!r} after {stored}")
    return n / (time.perf_counter() - started)


async def measure(
    args: argparse.Namespace, nats_url: str, nats_pid: int | None, port: int, process
) -> dict:
    began = time.monotonic()
    await wait_ready(port, process)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    pid = process.pid
    result: dict = {"idle_mib": await settled_rss(pid, readings=3)}
    try:
        await set_policy(port, PENDING, FAR)
        result["small"] = await grow(js, process, PENDING, 0, BASELINE)
        result["rss_small"] = await settled_rss(pid)
        result["nats_small"] = rss_kib(nats_pid) / 1024 if nats_pid else None
        rate = result["small"]["checkins_per_s"]
        result["late_small"] = await lateness(
            js, process, port, "BENCHL1", args.checkins, args.spread, rate
        )
        result["big"] = await grow(js, process, PENDING, BASELINE, args.pending)
        result["rss_big"] = await settled_rss(pid)
        result["nats_big"] = rss_kib(nats_pid) / 1024 if nats_pid else None
        result["late_big"] = await lateness(
            js, process, port, "BENCHL2", args.checkins, args.spread, rate
        )
        result["rss_peak"] = rss_kib(pid, "VmHWM") / 1024
        result["raw_timers_per_s"] = await raw_schedules(js, min(30_000, 3 * args.pending))
    finally:
        await nc.close()
    result["run_s"] = time.monotonic() - began
    return result


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(args: argparse.Namespace, r: dict) -> None:
    db = "PostgreSQL" if args.database_url else "SQLite (WAL, synchronous=FULL)"
    small, big = r["small"]["n"], r["small"]["n"] + r["big"]["n"]
    late_small, late_big = r["late_small"], r["late_big"]

    def show(v: float | None, fmt: str) -> str:
        return "-" if v is None else fmt.format(v)

    def row(label: str, a: float | None, b: float | None, fmt: str = "{:.1f}") -> None:
        print(f"{label:<50}{show(a, fmt):>16}{show(b, fmt):>18}")

    print(f"\nTimers ({os.cpu_count()} cores, {db}, the check-ins service as its own process)")
    print(f"{'measure':<50}{f'{small:,} pending':>16}{f'{big:,} pending':>18}")
    row(f"service RSS MiB, settled (idle: {r['idle_mib']:.1f})", r["rss_small"], r["rss_big"])
    row("nats-server RSS MiB", r["nats_small"], r["nats_big"])
    spread = f"{args.checkins:,} due over {args.spread:.0f} s"
    print(f"lateness after due_at, ms ({spread}; target: p99 < 1000)")
    for what, key, points in (
        ("CheckInDue stored", "due_ms", (50, 99, 100)),
        ("the timer fired (the bus alone)", "fired_ms", (50, 99)),
        ("CheckInDue received here", "received_ms", (50, 99)),
    ):
        for p in points:
            label = "max" if p == 100 else f"p{p}"
            row(
                f"  {label}, {what}",
                percentile(late_small[key], p),
                percentile(late_big[key], p),
                "{:.0f}",
            )
    row("  scheduled after their due time", late_small["late_planned"], late_big["late_planned"],
        "{:.0f}")  # fmt: skip

    g = r["big"]
    print(f"\nScheduling ({g['n']:,} PeerAssigned published pipelined, on top of {small:,})")
    print(f"{'measure':<50}{'Peerline':>16}{'raw schedules':>18}")
    print(f"{'check-ins scheduled/s':<50}{g['checkins_per_s']:>16,.0f}{'':>18}")
    print(
        f"{'timers stored/s (3 per check-in)':<50}"
        f"{3 * g['checkins_per_s']:>16,.0f}{r['raw_timers_per_s']:>18,.0f}"
    )
    print(f"{'service CPU ms per check-in':<50}{g['cpu_ms']:>16.2f}")
    print(
        f"  published in {g['publish_s']:.1f} s, consumed in {g['consumed_s']:.1f} s, the last "
        f"CheckInScheduled stored at {g['scheduled_s']:.1f} s;\n  {g['timers']:,} timers "
        f"pending on ps.{PENDING}.checkin.timer.>; peak service RSS {r['rss_peak']:.1f} MiB; "
        f"run {r['run_s']:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pending", type=int, default=100_000, help="check-ins held pending")
    parser.add_argument("--checkins", type=int, default=2_000, help="falling due per round")
    parser.add_argument("--spread", type=float, default=10.0, help="seconds due times span")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    if args.pending <= BASELINE:
        parser.error(f"--pending must be over {BASELINE:,}, the first step")
    workdir = Path(tempfile.mkdtemp(prefix="peerline-bench-"))
    try:
        with (
            NatsServer(workdir / "nats") as server,
            scratch_database(args.database_url, workdir, "checkins") as database_url,
        ):
            nats_pid = server._proc.pid if getattr(server, "_proc", None) else None
            process, port = start_checkins(workdir, server.url, database_url)
            try:
                result = uvloop.run(measure(args, server.url, nats_pid, port, process))
            except BaseException:
                tail = log_tail(workdir / "checkins.log", 20)
                print(f"The check-ins service's log ends with:\n{tail}", file=sys.stderr)
                raise
            finally:
                terminate(process, timeout=15)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(args, result)


if __name__ == "__main__":
    main()
