"""The NATS users of `peerline nats-config`, as tests make and read them."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from peerline.cli import app
from peerline.natsd import greeting_name, nats_server_binary

NATS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "nats"


def nats_config(agencies: Path, out: Path, *options: str) -> None:
    argv = ["nats-config", str(agencies), "--out", str(out), *options]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output


def credentials(out: Path, identity: str) -> tuple[str, str]:
    """(user, password) from a credentials file: `<identity>.env`, or
    `<identity>.previous.env` (identity `A.previous`) during a rotation."""
    path = out / "credentials" / f"{identity}.env"
    values = dict(line.split("=", 1) for line in path.read_text().split())
    return values["NATS_USER"], values["NATS_PASSWORD"]


def leaf_example(out: Path, agency: str, region: str, ca_file: Path, port: int = 4222) -> str:
    """deploy/nats/leafnode-agency.conf.example filled in for `agency`: joining the
    region's leaf-node port at `region` (host:port) trusting `ca_file`, listening for the
    CAD on `port`."""
    user, password = credentials(out, agency)
    filled = (NATS_DIR / "leafnode-agency.conf.example").read_text()
    for placeholder, value in (
        ("<agency-id>", agency),
        ("<user>", user),
        ("<password>", password),
        ("peerline.example.org:7422", region),
        ("<region-ca.pem>", str(ca_file)),
        ("127.0.0.1:4222", f"127.0.0.1:{port}"),
    ):
        assert placeholder in filled, placeholder
        filled = filled.replace(placeholder, value)
    return filled


class ConfiguredServer:
    """A nats-server of this machine on a configuration; stopped by `stop`."""

    def __init__(
        self,
        config: Path,
        name: str,
        port: int,
        *,
        leaf_port: int | None = None,
        monitor_port: int | None = None,
        ca_file: Path | None = None,
    ) -> None:
        self.port, self.leaf_port, self.monitor_port = port, leaf_port, monitor_port
        self.ca_file = ca_file  # the CA of its certificate, when it speaks TLS
        self.proc = subprocess.Popen(
            [str(nats_server_binary()), "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while greeting_name("127.0.0.1", port) != name:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                error = self.proc.stderr.read().decode()[-2000:]
                pytest.fail(f"nats-server did not start: {error}")
            time.sleep(0.05)

    def reload(self) -> None:
        """What `docker compose kill -s HUP` does: read the configuration again. With a
        monitoring port, returns once the server says it has (a fixed pause was too short
        on a loaded machine); without one, at once."""
        before = self._config_loaded()
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while before is not None and self._config_loaded() == before:
            assert time.monotonic() < deadline, "nats-server did not reload its configuration"
            time.sleep(0.02)

    def _config_loaded(self) -> str | None:
        if self.monitor_port is None:
            return None
        varz = httpx.get(f"http://127.0.0.1:{self.monitor_port}/varz", timeout=2, trust_env=False)
        return varz.json()["config_load_time"]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def tls_conf(certs: Path, leaf_listen: str) -> str:
    """deploy/nats/tls.conf for a server outside a container: the certificates in
    `certs`, the leaf-node port at `leaf_listen` (host:port)."""
    committed = (NATS_DIR / "tls.conf").read_text()
    assert "/etc/nats/certs" in committed and "0.0.0.0:7422" in committed
    return committed.replace("/etc/nats/certs", str(certs)).replace("0.0.0.0:7422", leaf_listen)
