"""Requests benchmark: an officer's own request for a peer, and the acknowledgment
deadline behind every assignment, on the stack as `peerline up` runs it (every service
its own process, SQLite, one nats-server; bench/stack.py).

An officer who presses "Ask for a peer" is waiting for someone, so the request must
reach a supporter at least as fast as a dispatch system's report does: the target is
p99 ≤ 1 s from the press to the supporter's notification. And every assignment holds a
durable timer on the bus until its supporter acknowledges it; when a region's
supporters ignore a burst of them, each must still move on when its deadline passes.

Prints, measured in the same run:
- the request path: `POST /v1/requests` sent (each request by another officer) -> the
  first supporter's `NotificationSent`, p50 and p99 beside the target (and on the way
  the roster's answer and the `PeerAssigned` at a subscriber), and beside it
  the CAD path: `POST /v1/incidents` with one involved officer -> `NotificationSent`,
  the two sent alternately at the same modest rate; and requests again while the roster
  works through the burst of deadlines below (`--during` of them at the same rate);
- the deadlines: `--timers` assignments made at once (reports of 50 officers) under an
  agency deadline of `--within` seconds and `max_moves` 1, nobody acknowledging, so
  each deadline fires twice: once to move the assignment (`AssignmentReassigned`), once
  to escalate it (`AssignmentEscalated`). A request's deadline is the same timer on the
  same consumer; reports make the assignments in seconds, so all are pending at once.
  For each, how many fired and the lateness after the deadline (`acknowledge_by`) of
  the timer's fired message stored (the bus alone: the floor), of the roster's decision
  (the event's `occurred_at`) and of the event stored; p50, p99 and max.
- the lines at WARNING or above in the services' logs during the run.

    python bench/requests.py [--requests 200] [--rate 5] [--timers 1000] [--within 20]
                             [--during 50]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

import httpx
import nats
from nats.js.api import ConsumerConfig, DeliverPolicy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pipeline  # noqa: E402  (bench/pipeline.py: report -> notification, percentile)
import stack  # noqa: E402  (bench/stack.py: the stack as `peerline up` runs it, a roster)

from shared.streams import DEADLINES, EVENTS, StreamSpec  # noqa: E402
from shared.tokens import issue_token  # noqa: E402

AGENCY = pipeline.AGENCY
TARGET_P99_MS = 1000
MAX_MOVES = 1  # each deadline fires twice: a move, then an escalation
PER_REPORT = 50  # officers per report making the assignments whose deadlines fire


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def stored(msg) -> float:
    return msg.metadata.timestamp.timestamp()


async def until(done: Callable[[], bool], timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not done() and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)


async def follow(js, stream: StreamSpec, subject: str, handler) -> None:
    """`handler` gets each new message on the agency's `subject` from now on."""
    await js.subscribe(
        f"ps.{AGENCY}.{subject}",
        stream=stream.name,
        cb=handler,
        ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.NEW),
        pending_msgs_limit=1_000_000,
    )


class Asking:
    """Officers' requests over the roster's HTTP API, each officer with a token of
    their own; the press goes in the chain's books, the request's id standing for an
    incident's (it is its `PeerAssigned.incident_id`), and here when the roster
    answered and when its `PeerAssigned` reached a subscriber."""

    def __init__(self, chain: pipeline.Chain, roster_url: str, secret: str) -> None:
        self.chain, self.secret = chain, secret
        self.answered: dict[str, float] = {}  # request_id -> perf_counter
        self.assigned: dict[str, float] = {}
        self.http = httpx.AsyncClient(
            base_url=roster_url, timeout=60, limits=httpx.Limits(max_connections=64)
        )

    async def start(self, js) -> None:
        async def made(msg) -> None:
            self.assigned.setdefault(json.loads(msg.data)["incident_id"], time.perf_counter())

        await follow(js, EVENTS, "assignment.made", made)

    def token(self, personnel_id: str) -> str:
        return issue_token(self.secret, agency=AGENCY, role="officer", sub=personnel_id)

    async def ask(self, token: str) -> str:
        started = time.perf_counter()
        answer = await self.http.post(
            "/v1/requests", json={"reach": "call"}, headers={"Authorization": f"Bearer {token}"}
        )
        answer.raise_for_status()
        request_id = answer.json()["request_id"]
        self.chain.sent[request_id] = started
        self.answered[request_id] = time.perf_counter()
        return request_id

    async def steps(self, keys: list[str], tag: str) -> dict[str, list[float]]:
        """ms from each request's press to its first notification (once all have come),
        to its answer and to its `PeerAssigned`, under `tag`."""
        notified = await notified_ms(self.chain, keys)
        sent = self.chain.sent
        return {
            tag: notified,
            f"{tag} answered": [(self.answered[k] - sent[k]) * 1000 for k in keys],
            f"{tag} assigned": [
                (self.assigned[k] - sent[k]) * 1000 for k in keys if k in self.assigned
            ],
        }

    async def close(self) -> None:
        await self.http.aclose()


async def open_loop(sends: list[Callable[[], Awaitable[str]]], rate: float) -> list[str]:
    """Each send started at its turn, `rate` per second whatever the answers; what the
    sends return."""
    start = time.perf_counter()
    tasks = []
    for i, send in enumerate(sends):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send()))
    return await asyncio.gather(*tasks)


async def notified_ms(chain: pipeline.Chain, keys: list[str]) -> list[float]:
    """ms from each send to its first notification, once all have come (or 90 s)."""
    await until(lambda: all(chain.done(k, 1) for k in keys), timeout=90)
    finished = ((chain.done(k, 1), chain.sent[k]) for k in keys)
    return [(done - sent) * 1000 for done, sent in finished if done is not None]


async def side_by_side(
    chain: pipeline.Chain, asking: Asking, tag: str, n: int, rate: float
) -> dict[str, list[float]]:
    """`n` requests and `n` one-officer reports, alternating, `rate` of each per second;
    ms from each send to its first notification, per path, and the requests' steps."""
    sends = []
    for i in range(n):
        sends.append(functools.partial(asking.ask, asking.token(f"{tag}-RQ-{i}")))
        sends.append(functools.partial(chain.send, f"{tag}-CAD-{i}", 1))
    keys = await open_loop(sends, 2 * rate)
    return await asking.steps(keys[0::2], "request") | {
        "report": await notified_ms(chain, keys[1::2])
    }


class Deadlines:
    """The agency's acknowledgment deadlines as the bus shows them, per (assignment,
    move): when each was due, when its timer's fired message was stored, and when the
    roster's answer to it was decided (`occurred_at`) and stored."""

    def __init__(self, officers: str) -> None:
        self.officers = officers  # the personnel ids' prefix of the assignments measured
        self.made: list[float] = []  # when each PeerAssigned was stored
        self.due: dict[tuple[str, int], float] = {}
        self.fired: dict[tuple[str, int], float] = {}
        self.decided: dict[tuple[str, int], float] = {}
        self.stored: dict[tuple[str, int], float] = {}

    async def start(self, js) -> None:
        async def made(msg) -> None:
            body = json.loads(msg.data)
            if not body["personnel_id"].startswith(self.officers):
                return
            self.made.append(stored(msg))
            if body.get("acknowledge_by"):
                self.due[(body["assignment_id"], 0)] = seconds(body["acknowledge_by"])

        async def reassigned(msg) -> None:
            body = json.loads(msg.data)
            self._answered(msg, body, body["move"] - 1)
            self.due[(body["assignment_id"], body["move"])] = seconds(body["acknowledge_by"])

        async def escalated(msg) -> None:
            body = json.loads(msg.data)
            self._answered(msg, body, body["moves"])

        async def fired(msg) -> None:
            body = json.loads(msg.data)
            self.fired.setdefault((body["assignment_id"], body["move"]), stored(msg))

        for stream, subject, handler in (
            (EVENTS, "assignment.made", made),
            (EVENTS, "assignment.reassigned", reassigned),
            (EVENTS, "assignment.escalated", escalated),
            (DEADLINES, "deadline.fired", fired),
        ):
            await follow(js, stream, subject, handler)

    def _answered(self, msg, body: dict, move: int) -> None:
        key = (body["assignment_id"], move)
        self.decided.setdefault(key, seconds(body["occurred_at"]))
        self.stored.setdefault(key, stored(msg))

    def pending_at_first(self) -> int:
        """Assignments made before the first deadline fired."""
        first = min((t for (_, move), t in self.fired.items() if move == 0), default=math.inf)
        return sum(made < first for made in self.made)

    def answered(self, move: int) -> int:
        return sum(1 for _, m in self.decided if m == move)

    def spans(self, move: int) -> tuple[float, float]:
        """Seconds from the first deadline of `move` fired to the last one fired, and to
        the last answer decided: how fast the roster works through them."""
        fired = [t for (_, m), t in self.fired.items() if m == move]
        decided = [t for (_, m), t in self.decided.items() if m == move]
        if not fired or not decided:
            return 0.0, 0.0
        return max(fired) - min(fired), max(decided) - min(fired)

    def late_ms(self, times: dict[tuple[str, int], float], move: int) -> list[float]:
        return [
            (t - self.due[k]) * 1000 for k, t in times.items() if k[1] == move and k in self.due
        ]


async def set_deadlines(roster_url: str, secret: str, within: int) -> None:
    """The agency's incidents' assignments must be acknowledged within `within` s."""
    coordinator = issue_token(secret, agency=AGENCY, role="coordinator")
    async with httpx.AsyncClient(timeout=60) as http:
        answer = await http.put(
            roster_url + "/v1/settings",
            json={"acknowledge_assignment_within": within, "max_moves": MAX_MOVES},
            headers={"Authorization": f"Bearer {coordinator}"},
        )
        answer.raise_for_status()


async def during_burst(
    chain: pipeline.Chain, asking: Asking, deadlines: Deadlines, n: int, rate: float
) -> dict[str, list[float]]:
    """`n` requests at `rate`/s from the moment the first deadline fires, while the
    roster moves the burst: their `Asking.steps`."""
    await until(lambda: bool(deadlines.fired), timeout=120)
    tokens = [asking.token(f"BURST-RQ-{i}") for i in range(n)]
    keys = await open_loop([functools.partial(asking.ask, token) for token in tokens], rate)
    return await asking.steps(keys, "during")


async def unacknowledged(
    chain: pipeline.Chain, asking: Asking, js, args
) -> tuple[Deadlines, dict[str, list[float]]]:
    """`--timers` assignments, from reports of up to `PER_REPORT` officers sent at once,
    under a `--within`-second deadline that nobody acknowledges, until each has been
    moved and then escalated; and the requests asked during the first burst."""
    n = args.timers
    deadlines = Deadlines(officers="ACK-")
    await deadlines.start(js)
    sizes = [min(PER_REPORT, n - i) for i in range(0, n, PER_REPORT)]
    await asyncio.gather(*(chain.send(f"ACK-{i}", size) for i, size in enumerate(sizes)))
    during = await during_burst(chain, asking, deadlines, args.during, args.rate)
    await until(lambda: deadlines.answered(MAX_MOVES) >= n, timeout=2 * args.within + 120)
    return deadlines, during


async def run(args, up: stack.Stack) -> tuple[dict[str, list[float]], Deadlines]:
    chain = pipeline.Chain(up.urls, up.secret, up.nats_url)
    await chain.start()
    asking = Asking(chain, up.urls["roster"], up.secret)
    nc = await nats.connect(up.nats_url)
    await asking.start(nc.jetstream())
    try:
        await side_by_side(chain, asking, "WARM", 10, args.rate)
        paths = await side_by_side(chain, asking, "RUN", args.requests, args.rate)
        await set_deadlines(up.urls["roster"], up.secret, args.within)
        deadlines, during = await unacknowledged(chain, asking, nc.jetstream(), args)
        paths |= during
    finally:
        await asking.close()
        await chain.close()
        await nc.close()
    return paths, deadlines


def troubles(workdir: Path) -> Counter[str]:
    """The lines at WARNING or above, and tracebacks, in every service's log so far,
    counted by service and message (the time left out)."""
    found: Counter[str] = Counter()
    for log in sorted((workdir / ".peerline" / "logs").glob("*.log")):
        for line in log.read_text(errors="replace").splitlines():
            if any(mark in line for mark in (" WARNING ", " ERROR ", " CRITICAL ", "Traceback")):
                found[f"{log.stem}: {line.split(' ', 2)[-1]}"] += 1
    return found


def row(label: str, values: list[float], *extra: str) -> str:
    p50, p99 = pipeline.percentile(values, 50), pipeline.percentile(values, 99)
    return f"{label:<52}{len(values):>6}{p50:>9.0f}{p99:>9.0f}" + "".join(extra)


def report(args, paths: dict[str, list[float]], deadlines: Deadlines, logged: Counter[str]) -> None:
    n = args.requests
    print(
        f"\nPress -> the supporter's NotificationSent: {n} requests (each officer distinct) "
        f"and {n} one-officer reports, alternating, {args.rate:g}/s of each"
    )
    print(f"{'path':<52}{'done':>6}{'p50 ms':>9}{'p99 ms':>9}{'target p99 ms':>15}")
    print(row("officer's request: POST /v1/requests", paths["request"], f"{TARGET_P99_MS:>15}"))
    print(row("  its answer (201)", paths["request answered"]))
    print(row("  its PeerAssigned at a subscriber", paths["request assigned"]))
    print(row("CAD report: POST /v1/incidents (1 officer)", paths["report"]))
    print(
        row(
            f"officer's request, {args.during} during the burst below",
            paths["during"],
            f"{TARGET_P99_MS:>15}",
        )
    )
    print(row("  its answer (201)", paths["during answered"]))
    print(row("  its PeerAssigned at a subscriber", paths["during assigned"]))
    made = deadlines.made
    print(
        f"\nAcknowledgment deadlines: {len(made)} assignments (reports of {PER_REPORT} "
        f"officers sent at once) made over {max(made) - min(made):.1f} s, "
        f"{deadlines.pending_at_first()} pending when the first fired; {args.within} s to "
        f"acknowledge, max_moves {MAX_MOVES}, nobody acknowledging. Lateness after "
        "acknowledge_by:"
    )
    print(f"{'deadline, measured at':<52}{'fired':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for move, answer in ((0, "AssignmentReassigned"), (MAX_MOVES, "AssignmentEscalated")):
        fired, answered = deadlines.spans(move)
        print(
            f"{'first' if move == 0 else 'second'} deadline -> {answer}: fired over "
            f"{fired:.1f} s, the last decided {answered:.1f} s after the first fired"
        )
        for label, times in (
            ("  its timer's fired message stored (the bus alone)", deadlines.fired),
            ("  the roster decided (the event's occurred_at)", deadlines.decided),
            ("  the event stored on the bus", deadlines.stored),
        ):
            late = deadlines.late_ms(times, move)
            print(row(label, late, f"{max(late, default=0):>9.0f}"))
    print(f"\nServices' logs: {logged.total()} lines at WARNING or above")
    for line, count in logged.most_common(10):
        print(f"{count:>6} x {line[:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5, help="of each path, per second")
    parser.add_argument("--timers", type=int, default=1000)
    parser.add_argument("--within", type=int, default=20, help="seconds to acknowledge")
    parser.add_argument("--during", type=int, default=50, help="requests during the burst")
    parser.add_argument("--supporters", type=int, default=120)
    args = parser.parse_args()
    with stack.running(args.supporters) as up:
        paths, deadlines = asyncio.run(run(args, up))
        logged = troubles(up.workdir)
    report(args, paths, deadlines, logged)


if __name__ == "__main__":
    main()
