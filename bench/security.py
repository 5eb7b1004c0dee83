"""Security guards benchmark: what each guard costs, with and without it, beside the
intake's own time per report, all measured in the same run.

- token verification per request (HS256, as every service does it), for a token seen
  before (remembered until it expires) and for a new one;
- the HMAC of derived ids (decision 66) against the public UUIDv5 they replaced, three
  per report (the incident, its event, the intake's idempotency key);
- sealing and opening a person's contact details (the roster, per record written/read);
- NATS authentication and per-service permissions (decision 67): JetStream publishes/s
  as the incidents service's own user on a server that enforces the table, against an
  open server; and the time to connect with and without a user.

Each guard's cost per report is set beside the intake's time per report (sustained HTTP
intake, the incidents service as its own process on SQLite): none may take 5 % of it.

    python bench/security.py [--reports 3000] [--publishes 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import nats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import intake  # noqa: E402  (bench/intake.py: the intake's own measurement)

from peerline.natsconfig import read_credential, write_users  # noqa: E402
from peerline.natsd import NatsServer, free_port  # noqa: E402
from shared import ids  # noqa: E402
from shared.bus_permissions import inbox_prefix  # noqa: E402
from shared.crypto import FieldCipher, new_key  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.streams import provision  # noqa: E402
from shared.tokens import TokenVerifier, issue_token  # noqa: E402

LIMIT = 0.05  # of the intake's time per report
CONTACT = json.dumps(
    {"display_name": "Dana Whitfield", "contact": {"email": "d@example.org", "phone": "+1555"}}
).encode()


def per_call_us(function, rounds: int = 20_000) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        function()
    return (time.perf_counter() - start) / rounds * 1e6


def cpu_guards() -> dict[str, tuple[float, float]]:
    """(with, without) in microseconds per report (or per record, for sealing)."""
    settings = Settings(jwt_secret=intake.SECRET)
    verifier = TokenVerifier(settings)
    token = issue_token(intake.SECRET, agency=intake.AGENCY, role="ingest")
    ids.use_key(lambda: "bench-ids-" + "i" * 32)
    namespace = uuid.uuid4()
    cipher = FieldCipher(new_key())
    sealed = cipher.seal(CONTACT, "supporter:S-1")
    return {
        # A token is verified once, then remembered until it expires (shared.tokens).
        "token verification, a token seen before": (
            per_call_us(lambda: verifier.verify(token)),
            0.0,
        ),
        "token verification, a new token": (
            per_call_us(lambda: TokenVerifier(settings).verify(token), rounds=5_000),
            0.0,
        ),
        "keyed ids, 3 per report": (
            3 * per_call_us(lambda: ids.incident_id_for(intake.AGENCY, "24-000123")),
            3 * per_call_us(lambda: uuid.uuid5(namespace, f"{intake.AGENCY}\x1f24-000123")),
        ),
        "sealing contact details (per record)": (
            per_call_us(lambda: cipher.seal(CONTACT, "supporter:S-1")),
            0.0,
        ),
        "opening contact details (per record)": (
            per_call_us(lambda: cipher.open(sealed, "supporter:S-1")),
            0.0,
        ),
    }


async def publishes_per_s(url: str, count: int, **connect) -> tuple[float, float]:
    """(JetStream publishes/s of `count` incident events, ms to connect)."""
    start = time.perf_counter()
    nc = await nats.connect(url, **connect)
    connected = (time.perf_counter() - start) * 1000
    js = nc.jetstream()
    await provision(js)
    body = b'{"external_id": "24-1"}' * 10
    start = time.perf_counter()
    pending = [js.publish(f"ps.{intake.AGENCY}.incident.updated", body) for _ in range(count)]
    for chunk in range(0, count, 256):
        await asyncio.gather(*pending[chunk : chunk + 256])
    rate = count / (time.perf_counter() - start)
    await nc.close()
    return rate, connected


async def nats_guard(workdir: Path, count: int) -> dict[str, tuple[float, float]]:
    auth = workdir / "auth"
    write_users([], auth, by="bench")
    user, password = read_credential(auth, "incidents")
    open_server = NatsServer(workdir / "open").start()
    walled = NatsServer(workdir / "walled")
    walled.config = auth / "accounts.conf"
    walled.start()
    try:
        plain_rate, plain_ms = await publishes_per_s(open_server.url, count)
        own = {"user": user, "password": password, "inbox_prefix": inbox_prefix("incidents")}
        walled_rate, walled_ms = await publishes_per_s(walled.url, count, **own)
    finally:
        open_server.stop()
        walled.stop()
    return {
        "NATS user and permissions (per event published)": (1e6 / walled_rate, 1e6 / plain_rate),
        "NATS authentication (per connection, ms)": (walled_ms, plain_ms),
    }


async def intake_us(workdir: Path, reports: int) -> float:
    """The intake's own time per report, in microseconds (sustained HTTP intake)."""
    server = NatsServer(workdir / "intake-nats").start()
    port = free_port()
    database = f"sqlite+aiosqlite:///{workdir / 'incidents.db'}"
    service = intake.start_service(workdir, server.url, port, database)
    try:
        await intake.wait_ready(port)
        token = issue_token(
            intake.SECRET, agency=intake.AGENCY, role="ingest", ttl=timedelta(hours=1)
        )
        pool = intake.HttpPool(port, token, 64)
        await pool.open()
        nc = await nats.connect(server.url)
        observer = intake.Observer(f"ps.{intake.AGENCY}.incident.reported")
        await observer.start(nc)

        async def send(key: str) -> None:
            await pool.post(intake.payload(key))

        await intake.sustained(send, [f"warm-{i}" for i in range(300)], observer, 64)
        rps = await intake.sustained(send, [f"s-{i}" for i in range(reports)], observer, 64)
        await pool.close()
        await nc.close()
    finally:
        service.terminate()
        service.wait(10)
        server.stop()
    return 1e6 / rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=3000)
    parser.add_argument("--publishes", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        per_report = asyncio.run(intake_us(workdir, args.reports))
        guards = cpu_guards() | asyncio.run(nats_guard(workdir, args.publishes))
    print(
        f"\nSecurity guards: intake takes {per_report:.0f} µs per report "
        f"({1e6 / per_report:.0f} reports/s over HTTP, SQLite); limit {LIMIT:.0%} of it"
    )
    print(f"{'guard':<50}{'with':>10}{'without':>10}{'cost':>10}{'share':>8}")
    for name, (with_guard, without) in guards.items():
        cost = with_guard - without
        unit = "ms" if "ms" in name else "µs"
        share = "" if unit == "ms" else f"{cost / per_report:.1%}"
        print(
            f"{name:<50}{with_guard:>8.1f}{unit}{without:>8.1f}{unit}{cost:>8.1f}{unit}{share:>8}"
        )
    print("(a connection is made once per process: its cost is not per report)")


if __name__ == "__main__":
    main()
