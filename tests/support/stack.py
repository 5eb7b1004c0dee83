"""`peerline up` as real processes in a fresh directory, and the `peerline` command
run beside it, for the end-to-end tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import ids
from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]


def peerline(*args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "peerline", *args],
        cwd=cwd,
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


def env() -> dict[str, str]:
    """The environment of the command under test: none of this process's `PEERLINE_*`
    settings, and any free ports, since another test's stack may be starting too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERLINE_")}
    env["PYTHONPATH"] = str(ROOT)
    env["PEERLINE_STACK_PORTS"] = "any"
    return env


@pytest.fixture
def stack(tmp_path):
    """`peerline up` in a fresh directory; yields (stack.json, workdir); stops with Ctrl-C.
    Its data folder exists already, open to all as someone else's `mkdir` may leave it,
    with a file in it: `peerline up` must close both."""
    (tmp_path / ".peerline").mkdir(mode=0o755)
    (tmp_path / ".peerline" / "notes.txt").write_text("left here by hand\n")
    (tmp_path / ".peerline" / "notes.txt").chmod(0o644)
    with open(tmp_path / "up.log", "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "peerline", "up"],
            cwd=tmp_path,
            env=env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    stack_file = tmp_path / ".peerline" / "stack.json"
    try:
        wait_until(
            lambda: stack_file.exists() or proc.poll() is not None, timeout=90, what="stack.json"
        )
        assert proc.poll() is None, (tmp_path / "up.log").read_text()
        yield json.loads(stack_file.read_text()), tmp_path, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)


@contextlib.contextmanager
def stack_ids(workdir: Path) -> Iterator[None]:
    """Derive ids as the stack in `workdir` does, under the id key it wrote."""
    ids.use_key(lambda: (workdir / ".peerline" / "id-key").read_text().strip())
    try:
        yield
    finally:
        ids.use_key(lambda: os.environ["PEERLINE_ID_KEY"])
