"""`peerline nats-config`: an agency's credentials work for its own intake and for
nothing of another agency's, on a real nats-server; and every NATS configuration the
deployment ships or generates passes `nats-server -t` (no engine needed)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeout
from typer.testing import CliRunner

from peerline.cli import app
from peerline.natsd import free_port, greeting_name, nats_server_binary
from shared.streams import INTAKE, provision

A, B = "CA0190000", "CA0190100"
NATS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "nats"


def _credentials(out: Path, user: str) -> tuple[str, str]:
    values = dict(
        line.split("=", 1) for line in (out / "credentials" / f"{user}.env").read_text().split()
    )
    return values["NATS_USER"], values["NATS_PASSWORD"]


@pytest.fixture
def generated(tmp_path) -> Path:
    agencies = tmp_path / "agencies.yaml"
    agencies.write_text(f"agencies:\n  - id: {A}\n  - id: {B}\n")
    out = tmp_path / "auth"
    result = CliRunner().invoke(app, ["nats-config", str(agencies), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def server(tmp_path, generated) -> str:
    """nats-server with JetStream and the generated accounts; yields its port."""
    port = free_port()
    config = tmp_path / "server.conf"
    config.write_text(
        f"server_name: auth-test\nlisten: 127.0.0.1:{port}\n"
        f"jetstream {{ store_dir: {json.dumps(str(tmp_path / 'js'))} }}\n"
        f"include {json.dumps(str(generated.relative_to(tmp_path) / 'accounts.conf'))}\n"
    )
    proc = subprocess.Popen(
        [str(nats_server_binary()), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while greeting_name("127.0.0.1", port) != "auth-test":
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"nats-server did not start: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(10)


async def _connect(port: int, out: Path, user: str, errors: list[str] | None = None):
    name, password = _credentials(out, user)

    async def on_error(exc: Exception) -> None:
        if errors is not None:
            errors.append(str(exc))

    return await nats.connect(
        f"nats://127.0.0.1:{port}",
        user=name,
        password=password,
        inbox_prefix=f"_INBOX_{user}",
        error_cb=on_error,
        allow_reconnect=False,
    )


def test_credentials_are_private_and_kept_across_runs(tmp_path, generated):
    files = sorted((generated / "credentials").iterdir())
    assert [p.name for p in files] == [f"{A}.env", f"{B}.env", "peerline.env"]
    assert all(p.stat().st_mode & 0o077 == 0 for p in files)
    accounts = (generated / "accounts.conf").read_text()
    assert all(_credentials(generated, p.stem)[1] not in accounts for p in files)
    before = [p.read_text() for p in files]
    agencies = tmp_path / "agencies.yaml"
    CliRunner().invoke(app, ["nats-config", str(agencies), "--out", str(generated)])
    assert [p.read_text() for p in files] == before


def test_a_bad_agency_list_is_refused(tmp_path):
    agencies = tmp_path / "agencies.yaml"
    agencies.write_text("agencies:\n  - id: 'ps.*'\n")
    result = CliRunner().invoke(app, ["nats-config", str(agencies), "--out", str(tmp_path)])
    assert result.exit_code == 2


async def test_an_agency_reports_only_for_itself(server, generated):
    services = await _connect(server, generated, "peerline")
    try:
        await provision(services.jetstream())
        errors: list[str] = []
        agency = await _connect(server, generated, A, errors)
        try:
            js = agency.jetstream()
            ack = await js.publish(f"ps.{A}.intake.incident", b"{}", timeout=5)
            assert ack.stream == INTAKE.name
            with pytest.raises(NatsTimeout):
                await js.publish(f"ps.{B}.intake.incident", b"{}", timeout=1)
            await agency.subscribe(f"ps.{B}.intake.rejected")
            await agency.subscribe(f"_INBOX_{B}.>")
            await agency.publish(f"ps.{A}.intake.rejected", b"{}")
            await agency.flush()
            deadline = asyncio.get_running_loop().time() + 5
            while len(errors) < 4 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.02)
        finally:
            await agency.close()
        violations = "\n".join(errors).lower()
        for refused in (
            f'publish to "ps.{B}.intake.incident"',
            f'subscription to "ps.{B}.intake.rejected"',
            f'subscription to "_INBOX_{B}.>"',
            f'publish to "ps.{A}.intake.rejected"',
        ):
            assert f"permissions violation for {refused}".lower() in violations
        info = await services.jetstream().stream_info(INTAKE.name, subjects_filter="ps.>")
        assert info.state.subjects == {f"ps.{A}.intake.incident": 1}
    finally:
        await services.close()


def _check(config: Path, **env: str) -> subprocess.CompletedProcess:
    """`nats-server -t`: parse and check a configuration without starting a server."""
    return subprocess.run(
        [str(nats_server_binary()), "-t", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ.get("PATH", ""), **env},
    )


def test_nats_server_accepts_the_generated_accounts(generated):
    done = _check(generated / "accounts.conf")
    assert done.returncode == 0, done.stderr


def test_nats_server_accepts_the_cluster_node_configuration():
    """The committed file, as each compose node reads it: its name from the environment."""
    done = _check(NATS_DIR / "nats-server.conf", NATS_SERVER_NAME="nats-1")
    assert done.returncode == 0, done.stderr
    missing = _check(NATS_DIR / "nats-server.conf")
    assert missing.returncode != 0
    assert "NATS_SERVER_NAME" in missing.stderr


def test_nats_server_accepts_the_cluster_with_accounts_and_a_leaf_listener(tmp_path, generated):
    """The steps docs/deployment.md gives to turn client authentication on."""
    config = tmp_path / "nats-server.conf"
    shutil.copy(NATS_DIR / "nats-server.conf", config)
    with config.open("a") as out:
        out.write("\ninclude auth/accounts.conf\nleafnodes { listen: 0.0.0.0:7422 }\n")
    done = _check(config, NATS_SERVER_NAME="nats-1")
    assert done.returncode == 0, done.stderr


def test_nats_server_accepts_the_agency_leaf_node_example(tmp_path, generated):
    user, password = _credentials(generated, A)
    example = (NATS_DIR / "leafnode-agency.conf.example").read_text()
    config = tmp_path / "leaf.conf"
    config.write_text(example.replace("<agency-id>", user).replace("<password>", password))
    done = _check(config)
    assert done.returncode == 0, done.stderr


def test_nats_server_check_catches_a_broken_configuration(tmp_path, generated):
    broken = tmp_path / "broken.conf"
    accounts = (generated / "accounts.conf").read_text()
    broken.write_text(accounts.replace('"allow"', '"alow"', 1))
    done = _check(broken)
    assert done.returncode != 0
    assert "alow" in done.stderr
