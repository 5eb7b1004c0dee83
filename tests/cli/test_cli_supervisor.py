"""How `peerline up` brings back a child that died."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerline.supervisor import Backoff, Supervisor
from tests.support.waiting import wait_until


@pytest.mark.unit
def test_pauses_double_up_to_thirty_seconds_and_reset_after_a_stable_minute() -> None:
    backoff = Backoff()
    quick_failures = [backoff.delay(uptime=0.5) for _ in range(7)]
    assert quick_failures == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.delay(uptime=60) == 1
    assert backoff.delay(uptime=3) == 2


class CrashingChild:
    """Exits with code 3 at once, every time it is started."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.starts = 0

    @property
    def returncode(self) -> int:
        return 3

    def alive(self) -> bool:
        return False

    def start(self) -> None:
        self.starts += 1


def test_a_crashing_child_is_reported_with_its_log_and_restarted(tmp_path: Path) -> None:
    log = tmp_path / "incidents.log"
    log.write_text("starting\nTraceback (most recent call last):\nImportError: no module\n")
    child = CrashingChild(log)
    said: list[str] = []
    supervisor = Supervisor(say=said.append)
    supervisor.watch("incidents", child)

    def restarted() -> bool:
        supervisor.tick()
        return child.starts > 0

    wait_until(restarted, timeout=5, what="the restart")

    assert child.starts == 1
    assert said[0].startswith("incidents exited with code 3; restarting in 1s")
    assert said[0].endswith("ImportError: no module")
    assert said[1] == "incidents restarted"
