"""Portal benchmark: 50 signed-in people at once, browsing and logging contacts.

The whole stack runs as `peerline up` runs it (every service its own process, SQLite).
One agency gets 25 peer supporters, each with an assignment whose first offer is due,
and 25 officers. Then 50 concurrent sessions run for `--seconds`, each person reading
a page for 0.5 to 1.5 s before opening the next (`--think 0`: back to back). Officers
open the peer directory (filtered and not), resources, the crisis lines and their
preferences; supporters open their assignments and one assignment (with the officer's
contact details), and log a contact.

Prints per page, from each answer's `Server-Timing` header, the portal's own time
(`app`: routing, session, templates) apart from the time it waited on the services
(`services`), p50 and p95, beside the same for a static file served by the same process
(the baseline), all measured in the same run. Target: p95 of the portal's own work
≤ 50 ms.

    python bench/portal.py [--seconds 20] [--users 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.tokens import issue_token  # noqa: E402
from shared.vocab import TrainingArea  # noqa: E402

AGENCY = "BENCHPORTAL"
SUPPORTERS = 25
THINK = (0.5, 1.5)  # seconds a person spends on a page before the next


def start_stack(workdir: Path) -> tuple[subprocess.Popen, dict, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLINE_")}
    env["PYTHONPATH"] = str(ROOT)
    log = open(workdir / "up.log", "w")  # noqa: SIM115 (open for the stack's life)
    proc = subprocess.Popen(
        [sys.executable, "-m", "peerline", "up"], cwd=workdir, env=env, stdout=log, stderr=log
    )
    stack_file = workdir / ".peerline" / "stack.json"
    deadline = time.monotonic() + 120
    while not stack_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit((workdir / "up.log").read_text())
        time.sleep(0.2)
    urls = json.loads(stack_file.read_text())["services"]
    secret = (workdir / ".peerline" / "jwt-secret").read_text().strip()
    return proc, urls, secret


def seed(urls: dict, secret: str) -> None:
    """25 supporters, 25 incidents reported late (each offer due at once), one officer
    each, with contact details; waits until every supporter has an open offer."""

    def call(role: str, method: str, service: str, path: str, sub: str | None = None, **kw):
        token = issue_token(secret, agency=AGENCY, role=role, sub=sub)
        answer = httpx.request(
            method,
            urls[service] + path,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            **kw,
        )
        answer.raise_for_status()
        return answer.json() if answer.content else None

    today = datetime.now(UTC).date()
    training = {
        "completed_on": today.isoformat(),
        "expires_on": (today + timedelta(days=700)).isoformat(),
    }
    for n in range(SUPPORTERS):
        sid = f"BS-{n}"
        call(
            "coordinator",
            "PUT",
            "roster",
            f"/v1/supporters/{sid}",
            json={
                "agency_id": AGENCY,
                "personnel_id": f"BP-{n}",
                "display_name": f"Peer {n}",
                "contact": {"phone": f"+1 555 0100 {n:03d}"},
                "gender": "female" if n % 2 else "male",
                "languages": ["en", "es"] if n % 3 else ["en"],
                "rank": "Sergeant",
                "certified_until": (today + timedelta(days=365)).isoformat(),
                "active": True,
                "max_open_assignments": 3,
                "availability": {"timezone": "UTC", "weekly": [], "on_call": [], "leave": []},
            },
        )
        for area in TrainingArea:
            call(
                "coordinator",
                "PUT",
                "roster",
                f"/v1/supporters/{sid}/training/{area}",
                json=training,
            )
        call(
            "coordinator",
            "PUT",
            "roster",
            f"/v1/officers/BO-{n}",
            json={"display_name": f"Officer {n}", "contact": {"phone": f"+1 555 0199 {n:03d}"}},
        )
    occurred = (datetime.now(UTC) - timedelta(hours=30)).isoformat()
    for n in range(SUPPORTERS):
        call(
            "ingest",
            "POST",
            "incidents",
            "/v1/incidents",
            json={
                "external_id": f"BENCH-{n}",
                "category": "officer_involved_shooting",
                "occurred_at": occurred,
                "involved": [{"personnel_id": f"BO-{n}", "role": "primary"}],
            },
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        offers = call("coordinator", "GET", "checkins", "/v1/checkins", params={"status": "open"})
        if len(offers) >= SUPPORTERS:
            return
        time.sleep(0.5)
    raise SystemExit("the assignments' offers did not all open in time")


class Timings:
    def __init__(self, recording_from: float) -> None:
        self.recording_from = recording_from  # after the warm-up: every page compiled once
        self.app: dict[str, list[float]] = defaultdict(list)
        self.services: dict[str, list[float]] = defaultdict(list)
        self.total: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)

    def note(self, page: str, answer: httpx.Response, seconds: float) -> None:
        if time.monotonic() < self.recording_from:
            return
        if answer.status_code >= 400:
            self.errors[page] += 1
            return
        timing = dict(re.findall(r"(\w+);dur=([\d.]+)", answer.headers.get("server-timing", "")))
        self.app[page].append(float(timing.get("app", "nan")))
        self.services[page].append(float(timing.get("services", "nan")))
        self.total[page].append(seconds * 1000)


async def signed_in(portal: str, role: str, subject: str) -> httpx.AsyncClient:
    await asyncio.sleep(random.uniform(0, THINK[1]))  # people arrive one by one
    client = httpx.AsyncClient(base_url=portal, timeout=30, trust_env=False)
    page = await client.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    await client.post(
        "/signin/local", data={"csrf": csrf, "agency": AGENCY, "role": role, "subject": subject}
    )
    return client


async def timed(client: httpx.AsyncClient, t: Timings, page: str, method: str, path: str, **kw):
    """One page as a person opens it: the request, then a moment to read it."""
    started = time.perf_counter()
    answer = await client.request(method, path, **kw)
    t.note(page, answer, time.perf_counter() - started)
    await asyncio.sleep(random.uniform(*THINK))
    return answer


async def officer(portal: str, n: int, t: Timings, until: float) -> None:
    client = await signed_in(portal, "officer", f"BO-{n}")
    try:
        while time.monotonic() < until:
            await timed(client, t, "peers", "GET", "/peers")
            await timed(
                client,
                t,
                "peers filtered",
                "GET",
                "/peers",
                params={"language": "es", "gender": "female"},
            )
            await timed(client, t, "resources", "GET", "/resources")
            await timed(client, t, "crisis lines", "GET", "/crisis")
            await timed(client, t, "preferences", "GET", "/preferences")
            await timed(client, t, "static file (baseline)", "GET", "/static/portal.css")
    finally:
        await client.aclose()


async def supporter(portal: str, n: int, t: Timings, until: float) -> None:
    client = await signed_in(portal, "supporter", f"BS-{n}")
    try:
        while time.monotonic() < until:
            listed = await timed(client, t, "assignments", "GET", "/assignments")
            ids = re.findall(r'href="/assignments/([0-9a-f-]{36})"', listed.text)
            for assignment_id in ids[:1]:
                page = await timed(client, t, "assignment", "GET", f"/assignments/{assignment_id}")
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
                if csrf and "form" in page.text and "Log a contact" in page.text:
                    await timed(
                        client,
                        t,
                        "log contact (post)",
                        "POST",
                        f"/assignments/{assignment_id}/contact",
                        data={
                            "csrf": csrf.group(1),
                            "channel": "phone",
                            "duration_bucket": "lt_15m",
                            "outcome": "follow_up_planned",
                            "initiated_by": "peer_outreach",
                        },
                    )
            await timed(client, t, "static file (baseline)", "GET", "/static/portal.css")
    finally:
        await client.aclose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(t: Timings, seconds: float, users: int) -> None:
    pages = sum(len(v) for v in t.app.values())
    print(
        f"\n{users} concurrent signed-in people for {seconds:g} s, whole stack on SQLite: "
        f"{pages / seconds:.0f} pages/s\n"
    )
    columns = ("app p50", "app p95", "svc p50", "svc p95")
    head = f"{'page':<24}{'n':>6}" + "".join(f"{c:>9}" for c in columns) + f"{'total p95':>11}"
    print(head)
    print("-" * len(head))
    for page in sorted(t.app, key=lambda p: (p.startswith("static"), p)):
        app, svc, total = t.app[page], t.services[page], t.total[page]
        print(
            f"{page:<24}{len(app):>6}{percentile(app, 50):>9.1f}{percentile(app, 95):>9.1f}"
            f"{percentile(svc, 50):>9.1f}{percentile(svc, 95):>9.1f}{percentile(total, 95):>11.1f}"
        )
    pages = [v for p, vs in t.app.items() if not p.startswith("static") for v in vs]
    print(
        f"\nall pages: portal's own work p50 {statistics.median(pages):.1f} ms, "
        f"p95 {percentile(pages, 95):.1f} ms (target ≤ 50 ms); baseline static file p95 "
        f"{percentile(t.app['static file (baseline)'], 95):.1f} ms"
    )
    if t.errors:
        print("errors:", dict(t.errors))


async def load(portal: str, users: int, seconds: float, warmup: float) -> Timings:
    t = Timings(time.monotonic() + warmup)
    until = time.monotonic() + warmup + seconds
    tasks = [officer(portal, n, t, until) for n in range(users - users // 2)]
    tasks += [supporter(portal, n % SUPPORTERS, t, until) for n in range(users // 2)]
    await asyncio.gather(*tasks)
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds per page")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds not recorded")
    args = parser.parse_args()
    global THINK
    THINK = (args.think / 2, args.think * 1.5)
    with tempfile.TemporaryDirectory() as tmp:
        proc, urls, secret = start_stack(Path(tmp))
        try:
            seed(urls, secret)
            timings = asyncio.run(load(urls["portal"], args.users, args.seconds, args.warmup))
            report(timings, args.seconds, args.users)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
