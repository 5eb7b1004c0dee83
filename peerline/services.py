"""The services `peerline up` runs, each as its own Python process.

A service is started as `python -m <module>` with everything it needs in `PEERLINE_*`
variables, the same way a container starts it, so the local stack exercises the real
entry points rather than an in-process shortcut.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from peerline.natsd import LOOPBACK, free_port, port_is_free
from peerline.process import spawn, terminate
from shared.settings import DEFAULT_PORTS

SERVICES: dict[str, str] = {
    "incidents": "services.incidents",
    "roster": "services.roster",
    "checkins": "services.checkins",
    "notify": "services.notify",
    "metrics": "services.metrics",
    # Last: it calls the others, and its page says so if one is still starting.
    "portal": "services.portal",
}

# Health checks go straight to 127.0.0.1, whatever HTTP proxy the environment names.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def choose_port(name: str) -> int:
    """The service's usual port when free, else any free one, so a second stack or a busy
    port never stops the stack from starting. With `PEERLINE_STACK_PORTS=any`, always
    any free one: two stacks starting at once could both find a usual port free."""
    usual = DEFAULT_PORTS.get(name)
    if os.environ.get("PEERLINE_STACK_PORTS") == "any":
        usual = None
    if usual is not None and port_is_free(usual):
        return usual
    return free_port()


def healthy(url: str) -> bool:
    """Whether `GET <url>/healthz` answers 200 within a second."""
    try:
        with _DIRECT.open(f"{url}/healthz", timeout=1.0) as response:
            return response.status == 200
    except (OSError, http.client.HTTPException):
        return False


class ServiceProcess:
    """One service of the stack on a fixed port, restartable with the same settings."""

    def __init__(
        self,
        name: str,
        module: str,
        *,
        port: int,
        data_dir: Path,
        nats_url: str,
        secret: str,
        wiring: Mapping[str, str] | None = None,
    ) -> None:
        """`wiring`: more `PEERLINE_*` variables, what this service must know of the
        others (say, the roster's URL)."""
        data_dir = data_dir.resolve()
        self.name = name
        self.module = module
        self.port = port
        self.log_path = data_dir / "logs" / f"{name}.log"
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PEERLINE_SERVICE": name,
            "PEERLINE_NATS_URL": nats_url,
            "PEERLINE_DATA_DIR": str(data_dir),
            "PEERLINE_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / f'{name}.db'}",
            "PEERLINE_HOST": LOOPBACK,
            "PEERLINE_PORT": str(port),
            "PEERLINE_JWT_SECRET": secret,
            **(wiring or {}),
        }
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> ServiceProcess:
        self._proc = spawn([sys.executable, "-m", self.module], self.log_path, self.env)
        return self

    def request_stop(self) -> None:
        """Send SIGTERM without waiting, so several services can wind down together."""
        if self.alive():
            self._proc.terminate()

    def stop(self, timeout: float = 10.0) -> None:
        if self._proc is not None:
            terminate(self._proc, timeout)
