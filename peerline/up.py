"""`peerline up`: the whole stack on this machine, supervised until Ctrl-C.

One NATS server (JetStream, its store under the data directory) and every service as
its own process, each restarted when it dies. The services stop before the NATS server
so they can still flush to the bus, and nothing is left running afterwards.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import nats
import nats.errors
from rich.console import Console
from rich.table import Table

from peerline import stackfile
from peerline.headlines import headline_of
from peerline.natsconfig import OPERATORS, read_credential, write_users
from peerline.natsd import LOOPBACK, NatsServer
from peerline.services import SERVICES, ServiceProcess, choose_port, healthy
from peerline.supervisor import Supervisor
from peerline.tail import TailError, tail
from shared.bus_permissions import USERS
from shared.crypto import new_key
from shared.private_files import keep_private
from shared.settings import Settings
from shared.streams import provision
from shared.subjects import EVERYTHING

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
EXAMPLE_AGENCY = "CA0190000"


def _create_secret_file(path: Path, secret: str) -> str:
    """Write `secret` to a new file readable by this user only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    return secret


def ensure_secret(data_dir: Path) -> str:
    """The token signing secret: PEERLINE_JWT_SECRET, else `<data_dir>/jwt-secret`,
    created (readable by this user only) the first time."""
    try:
        return Settings(data_dir=data_dir).signing_secret()
    except RuntimeError:
        return _create_secret_file(data_dir / "jwt-secret", secrets.token_urlsafe(32))


def ensure_field_key(data_dir: Path) -> None:
    """The key that seals personal fields: PEERLINE_FIELD_KEY, else
    `<data_dir>/field-key`, created (readable by this user only) the first time. The
    services read the file themselves: the key is not put in their environment."""
    try:
        Settings(data_dir=data_dir).sealing_key()
    except RuntimeError:
        _create_secret_file(data_dir / "field-key", new_key())


def ensure_pseudonym_key(data_dir: Path) -> None:
    """The key of officer pseudonyms: PEERLINE_PSEUDONYM_KEY, else
    `<data_dir>/pseudonym-key`, created (readable by this user only) the first time."""
    try:
        Settings(data_dir=data_dir).pseudonym_secret()
    except RuntimeError:
        _create_secret_file(data_dir / "pseudonym-key", secrets.token_urlsafe(32))


def ensure_id_key(data_dir: Path) -> None:
    """The key of derived ids: PEERLINE_ID_KEY, else `<data_dir>/id-key`, created
    (readable by this user only) the first time."""
    try:
        Settings(data_dir=data_dir).id_secret()
    except RuntimeError:
        _create_secret_file(data_dir / "id-key", secrets.token_urlsafe(32))


async def provision_streams(nats_url: str) -> None:
    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        await provision(nc.jetstream())
    finally:
        await nc.close()


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Turn Ctrl-C, SIGTERM and a closed terminal into a request to stop cleanly."""
    wanted = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Headlines:
    """One short line per notable event in this terminal (`peerline.headlines`), from a
    tail of the bus on a thread of its own."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._thread = threading.Thread(target=self._run, name="headlines", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        async def follow() -> None:
            self._task = asyncio.current_task()
            await tail(
                self.stack.operators_url,
                EVERYTHING,
                count=None,
                out=lambda text: self.stack.say(text, style="cyan"),
                err=lambda _: None,
                line=headline_of,
            )

        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(follow())
        except (asyncio.CancelledError, TailError, OSError, nats.errors.Error):
            pass  # stopped, or the bus is gone: the stack goes on without headlines
        finally:
            self._loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread.is_alive():
            self._thread.join(timeout=5)


class Stack:
    def __init__(self, data_dir: Path, console: Console) -> None:
        self.data_dir = data_dir.resolve()
        self.console = console
        logs = self.data_dir / "logs"
        self.nats = NatsServer(self.data_dir / "nats", log_path=logs / "nats.log")
        self.services: dict[str, ServiceProcess] = {}
        self.supervisor = Supervisor(say=self.say)
        self.stop = threading.Event()
        self.headlines = Headlines(self)

    def say(self, message: str, style: str = "yellow") -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        self.console.print(
            f"{stamp} {message}", style=style, markup=False, highlight=False, soft_wrap=True
        )

    def run(self) -> int:
        """Start, announce, supervise until asked to stop; the process exit code."""
        pid = stackfile.running_pid(self.data_dir)
        if pid is not None:
            self.say(
                f"peerline up is already running for {self.data_dir} (pid {pid}); "
                "stop it first or choose another --data-dir",
                style="red",
            )
            return 1
        with stop_on_signals(self.stop):
            try:
                self.start()
                if not self.wait_ready():
                    return 0 if self.stop.is_set() else 1
                self.announce()
                self.headlines.start()
                while not self.stop.wait(0.2):
                    self.supervisor.tick()
                return 0
            except (OSError, RuntimeError, nats.errors.Error) as exc:
                self.say(f"could not start the stack: {exc}", style="red")
                return 1
            finally:
                self.shutdown()

    def start(self) -> None:
        keep_private(self.data_dir)  # the services and nats-server inherit the umask
        secret = ensure_secret(self.data_dir)
        ensure_field_key(self.data_dir)
        ensure_pseudonym_key(self.data_dir)
        ensure_id_key(self.data_dir)
        # Every client of the stack's NATS has a user of its own (decision 67): each
        # service one allowed only what it owns, the command's tools the operators'.
        write_users([], self.auth_dir, by="peerline up")
        self.nats.config = self.auth_dir / "accounts.conf"
        self.nats.start()
        self.supervisor.watch("nats", self.nats)
        self.say(f"nats-server listening on {self.nats.url}", style="green")
        asyncio.run(provision_streams(self.operators_url))
        ports = {name: choose_port(name) for name in SERVICES}
        for name, module in SERVICES.items():
            service = ServiceProcess(
                name,
                module,
                port=ports[name],
                data_dir=self.data_dir,
                nats_url=self.nats.url,
                secret=secret,
                wiring=self.wiring(name, ports) | self.nats_user(name),
            )
            self.services[name] = service.start()
            self.supervisor.watch(name, service)

    @property
    def auth_dir(self) -> Path:
        return self.data_dir / "nats-auth"

    @property
    def operators_url(self) -> str:
        """The stack's NATS with the operators' user in it: for provisioning, the
        headlines and stack.json, whose tools (`events tail`, `dlq`) then just work."""
        user, password = read_credential(self.auth_dir, OPERATORS)
        return self.nats.url.replace("nats://", f"nats://{quote(user)}:{quote(password)}@", 1)

    def nats_user(self, name: str) -> dict[str, str]:
        """The service's own NATS user; none for the portal, which has no bus."""
        if name not in USERS:
            return {}
        user, password = read_credential(self.auth_dir, name)
        return {"PEERLINE_NATS_USER": user, "PEERLINE_NATS_PASSWORD": password}

    def wiring(self, name: str, ports: dict[str, int]) -> dict[str, str]:
        """What a service must know of the others: notify looks recipients up in the
        roster, links to the portal, and delivers to its own log when a recipient has no
        channel configured here (no SMTP relay, say); the portal calls every service and
        offers the local sign-in, over plain HTTP on loopback."""
        url = {other: f"http://{LOOPBACK}:{port}" for other, port in ports.items()}
        if name == "notify":
            return {
                "PEERLINE_ROSTER_URL": url["roster"],
                "PEERLINE_PORTAL_URL": url["portal"],
                "PEERLINE_NOTIFY_CONSOLE": "true",
            }
        if name == "portal":
            services = ("incidents", "roster", "checkins", "notify", "metrics")
            return {
                **{f"PEERLINE_{other.upper()}_URL": url[other] for other in services},
                "PEERLINE_PORTAL_LOCAL_SIGNIN": "true",
                "PEERLINE_PORTAL_SECURE_COOKIES": "false",
            }
        return {}

    def wait_ready(self) -> bool:
        """Until every service answers /healthz; False on timeout or a stop request."""
        waiting = dict(self.services)
        deadline = time.monotonic() + READY_TIMEOUT
        while waiting:
            self.supervisor.tick()
            for name, service in list(waiting.items()):
                if service.alive() and healthy(service.url):
                    self.say(f"{name} ready at {service.url}", style="green")
                    del waiting[name]
            if not waiting:
                break
            if time.monotonic() > deadline:
                for name, service in waiting.items():
                    self.say(
                        f"{name} did not answer {service.url}/healthz within "
                        f"{READY_TIMEOUT:g}s; see {service.log_path}",
                        style="red",
                    )
                return False
            if self.stop.wait(0.25):
                return False
        return True

    def announce(self) -> None:
        urls = {name: service.url for name, service in self.services.items()}
        stackfile.write(self.data_dir, nats_url=self.operators_url, services=urls)
        portal = urls["portal"]
        self.console.print(
            f"\nPeerline is running. Open {portal} and sign in.\n",
            style="bold green",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        table = Table(title="Its parts", title_justify="left")
        table.add_column("part")
        table.add_column("address")
        for name, url in sorted(urls.items(), key=lambda item: item[0] != "portal"):
            table.add_row(name, url)
        table.add_row("NATS", self.nats.url)
        self.console.print(table)
        usual = Settings().data_dir.resolve()
        option = "" if self.data_dir == usual else f" --data-dir {self.data_dir}"
        self.console.print(
            f"Tokens: peerline token{option} --agency {EXAMPLE_AGENCY} --role ingest\n"
            f"Events: peerline events tail{option}\n"
            f"Logs:   {self.data_dir / 'logs'}\n"
            f"Stack:  {stackfile.path(self.data_dir)}\n"
            "Ctrl-C stops everything.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )

    def shutdown(self) -> None:
        self.headlines.stop()
        for service in self.services.values():
            service.request_stop()
        deadline = time.monotonic() + STOP_TIMEOUT
        for service in self.services.values():
            service.stop(timeout=max(0.0, deadline - time.monotonic()))
        self.nats.stop()
        stackfile.remove(self.data_dir)
        self.say("stopped", style="green")


def up(data_dir: Path) -> int:
    return Stack(data_dir, Console()).run()
