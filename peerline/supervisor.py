"""Keeping the children of `peerline up` running.

A child that exits on its own is restarted after a pause that doubles with each quick
failure (1 s up to 30 s), so a crash loop neither spins the CPU nor floods the log, and
the pause falls back to 1 s once the child has stayed up for a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from peerline.process import log_tail


class Child(Protocol):
    log_path: Path

    @property
    def returncode(self) -> int | None: ...

    def alive(self) -> bool: ...

    def start(self) -> object: ...


@dataclass
class Backoff:
    first: float = 1.0
    cap: float = 30.0
    stable_after: float = 60.0
    _next: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._next = self.first

    def delay(self, uptime: float) -> float:
        """The pause before restarting a child that ran for `uptime` seconds."""
        if uptime >= self.stable_after:
            self._next = self.first
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        return delay


@dataclass
class _Watch:
    name: str
    child: Child
    backoff: Backoff = field(default_factory=Backoff)
    started_at: float = field(default_factory=time.monotonic)
    restart_at: float | None = None


class Supervisor:
    """Restarts watched children that exit; `say` reports what happened."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self._say = say
        self._watches: list[_Watch] = []

    def watch(self, name: str, child: Child) -> None:
        """Supervise `child`, which the caller has just started."""
        self._watches.append(_Watch(name, child))

    def tick(self) -> None:
        """Notice exits and restart children whose pause is over; call it often."""
        now = time.monotonic()
        for watch in self._watches:
            if watch.restart_at is None:
                if not watch.child.alive():
                    code = watch.child.returncode
                    # A child killed by a signal has nothing in its log about why.
                    self._schedule_restart(watch, now, f"exited with code {code}", code > 0)
            elif now >= watch.restart_at:
                watch.restart_at = None
                watch.started_at = now
                try:
                    watch.child.start()
                except Exception as exc:
                    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    self._schedule_restart(watch, now, f"failed to start: {first_line}", True)
                else:
                    self._say(f"{watch.name} restarted")

    def _schedule_restart(self, watch: _Watch, now: float, what: str, show_log: bool) -> None:
        delay = watch.backoff.delay(now - watch.started_at)
        watch.restart_at = now + delay
        message = f"{watch.name} {what}; restarting in {delay:g}s (log: {watch.child.log_path})"
        tail = log_tail(watch.child.log_path, lines=3) if show_log else ""
        self._say(f"{message}\n{tail}" if tail else message)
