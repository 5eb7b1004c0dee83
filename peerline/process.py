"""Child processes of the local stack: started with their output in a log file, stopped
politely first.

Each child gets its own session, so the terminal's Ctrl-C reaches only the supervisor,
which then stops the services before the bus they flush to. On Linux a child also
receives SIGTERM when the process that started it dies, so a supervisor killed with
SIGKILL leaves no NATS server or service holding ports and files behind.
"""

from __future__ import annotations

import ctypes
import shlex
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

_PR_SET_PDEATHSIG = 1
# Loaded before any fork: the child must not resolve libraries between fork and exec.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen:
    """Start `argv` with stdout and stderr appended to `log_path`.

    The death signal is tied to the calling thread, so call this from a thread that
    lives as long as the child should (the main thread, in practice).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        log.write(f"--- {stamp} {shlex.join(argv)}\n".encode())
        log.flush()
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            start_new_session=True,
            preexec_fn=_die_with_parent if _LIBC is not None else None,
        )


def terminate(proc: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM, wait up to `timeout` seconds, then SIGKILL; the exit code."""
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


def log_tail(log_path: Path, lines: int = 5) -> str:
    """The last lines of a child's log, to show why it failed without opening the file."""
    try:
        text = log_path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.rstrip().splitlines()[-lines:])
