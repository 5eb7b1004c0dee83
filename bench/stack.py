"""The stack the whole-chain benchmarks run on: every service its own process as
`peerline up` runs it (SQLite, one nats-server), with `sizing.AGENCY`'s roster of
supporters imported by CSV. Used by bench/pipeline.py and bench/requests.py."""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import portal  # bench/portal.py: the stack as `peerline up` runs it
import sizing  # bench/sizing.py: a roster by CSV

from shared.tokens import issue_token


@dataclass(frozen=True)
class Stack:
    workdir: Path  # the stack's working directory; its services log to up.log
    urls: dict[str, str]  # service -> base URL
    secret: str  # signs tokens the services accept
    nats_url: str
    process: subprocess.Popen


@contextlib.contextmanager
def running(supporters: int) -> Iterator[Stack]:
    """The stack with `supporters` imported and settled; stopped (Ctrl-C) on leaving."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        proc, urls, secret = portal.start_stack(workdir)
        try:
            coordinator = issue_token(secret, agency=sizing.AGENCY, role="coordinator")
            httpx.post(
                urls["roster"] + "/v1/imports",
                content=sizing.roster_csv(supporters),
                headers={"Authorization": f"Bearer {coordinator}", "Content-Type": "text/csv"},
                timeout=120,
            ).raise_for_status()
            time.sleep(3)
            nats_url = json.loads((workdir / ".peerline" / "stack.json").read_text())["nats_url"]
            yield Stack(workdir, urls, secret, nats_url, proc)
        finally:
            proc.send_signal(2)
            proc.wait(60)
