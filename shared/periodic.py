"""Jobs a service runs on a clock: reminders to send, records to purge.

A job runs at start and then every `interval` seconds, in the background with the
service's other workers. Each run must be safe to repeat and to race with the same job
in another replica (a job decides with conditional writes, not by being alone), so a
missed or doubled run costs nothing but time. A failing run is logged by its kind only
(no message, which could carry data) and retried at the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    """`wake()` runs the job again as soon as the current run ends, instead of at the next
    tick: for work that something else has just made (a delivery recorded, say), while
    the tick stays the fallback."""

    def __init__(self, name: str, interval: float, job: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self.interval = interval
        self._job = job
        self._task: asyncio.Task | None = None
        self._woken = asyncio.Event()

    def wake(self) -> None:
        self._woken.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"periodic-{self.name}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                await self._job()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("periodic job %s failed (%s)", self.name, type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self.interval)
            self._woken.clear()
