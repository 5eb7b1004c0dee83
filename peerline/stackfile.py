"""`<data_dir>/stack.json`: where a running `peerline up` can be reached.

Other commands (such as `events tail`) read it so that a newcomer never has to copy a
URL, and `peerline up` reads it to refuse a second stack on the same data directory,
whose NATS store and SQLite files must have one owner.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FILENAME = "stack.json"


def path(data_dir: Path) -> Path:
    return data_dir / FILENAME


def write(data_dir: Path, *, nats_url: str, services: dict[str, str]) -> None:
    """Write atomically, so a reader never sees half a file."""
    target = path(data_dir)
    partial = target.with_suffix(".json.tmp")
    body = {"nats_url": nats_url, "services": services, "pid": os.getpid()}
    partial.write_text(json.dumps(body, indent=2) + "\n")
    partial.replace(target)


def read(data_dir: Path) -> dict | None:
    try:
        return json.loads(path(data_dir).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def remove(data_dir: Path) -> None:
    path(data_dir).unlink(missing_ok=True)


def running_pid(data_dir: Path) -> int | None:
    """The pid of the `peerline up` that wrote stack.json, if that process still runs."""
    stack = read(data_dir)
    pid = stack.get("pid") if stack else None
    if not isinstance(pid, int) or pid == os.getpid():
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, but another user's
    return pid
