"""A periodic job runs at start, then on its tick, or at once when woken."""

from __future__ import annotations

import asyncio

import pytest

from shared.periodic import Periodic

pytestmark = pytest.mark.unit


async def test_a_woken_job_runs_at_once_and_the_tick_stays_the_fallback():
    runs = []

    async def job() -> None:
        runs.append(asyncio.get_running_loop().time())

    periodic = Periodic("test", 60.0, job)
    periodic.start()
    try:
        await asyncio.sleep(0.05)
        assert len(runs) == 1  # at start
        periodic.wake()
        await asyncio.sleep(0.05)
        assert len(runs) == 2  # at once, not a minute later
        await asyncio.sleep(0.1)
        assert len(runs) == 2  # and not again until woken or due
    finally:
        await periodic.stop()
