"""`peerline nats-config`: an agency's credentials work for its own intake and for
nothing of another agency's, on a real nats-server; and every NATS configuration the
deployment ships or generates passes `nats-server -t` (no engine needed)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import pytest
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig
from nats.js.errors import NoStreamResponseError
from typer.testing import CliRunner

from peerline.cli import app
from peerline.natsd import free_port, nats_server_binary
from shared.bus_permissions import USERS
from shared.streams import EVENTS, INTAKE, provision
from tests.support.certs import trusting, write_certificates
from tests.support.natsauth import (
    NATS_DIR,
    ConfiguredServer,
    credentials,
    leaf_example,
    nats_config,
    tls_conf,
)
from tests.support.waiting import await_until

A, B = "CA0190000", "CA0190100"
# Whom nats-config writes credentials for: the operators, each service, each agency.
IDENTITIES = ("peerline", *USERS, A, B)


@pytest.fixture
def generated(tmp_path) -> Path:
    agencies = tmp_path / "agencies.yaml"
    agencies.write_text(f"agencies:\n  - id: {A}\n  - id: {B}\n")
    out = tmp_path / "auth"
    nats_config(agencies, out)
    return out


@pytest.fixture
def hub(tmp_path, generated) -> Iterator[ConfiguredServer]:
    """The region's server as the committed node configuration has it (JetStream, the
    generated accounts, TLS on the client and leaf-node ports), standing alone on free
    ports."""
    port, leaf_port, monitor_port = free_port(), free_port(), free_port()
    ca_file = write_certificates(tmp_path / "certs", ["localhost", "127.0.0.1"])
    (tmp_path / "tls.conf").write_text(tls_conf(tmp_path / "certs", f"127.0.0.1:{leaf_port}"))
    config = tmp_path / "hub.conf"
    config.write_text(
        f"server_name: hub\nlisten: 127.0.0.1:{port}\nhttp: 127.0.0.1:{monitor_port}\n"
        f"jetstream {{ store_dir: {json.dumps(str(tmp_path / 'js'))} }}\n"
        f"include {json.dumps(str(generated.relative_to(tmp_path) / 'accounts.conf'))}\n"
        "include tls.conf\n"
    )
    server = ConfiguredServer(
        config, "hub", port, leaf_port=leaf_port, monitor_port=monitor_port, ca_file=ca_file
    )
    yield server
    server.stop()


async def _connect(
    hub: ConfiguredServer, out: Path, identity: str, errors: list[str] | None = None
):
    """A client with `identity`'s credentials (a file's name: `A`, `A.previous`)."""
    name, password = credentials(out, identity)

    async def on_error(exc: Exception) -> None:
        if errors is not None:
            errors.append(str(exc))

    return await nats.connect(
        f"nats://127.0.0.1:{hub.port}",
        tls=trusting(hub.ca_file),
        user=name,
        password=password,
        inbox_prefix=f"_INBOX_{identity.split('.')[0]}",
        error_cb=on_error,
        allow_reconnect=False,
    )


def test_credentials_are_private_and_kept_across_runs(tmp_path, generated):
    files = sorted((generated / "credentials").iterdir())
    assert [p.name for p in files] == sorted(f"{who}.env" for who in IDENTITIES)
    assert all(p.stat().st_mode & 0o077 == 0 for p in files)
    accounts = (generated / "accounts.conf").read_text()
    assert all(credentials(generated, p.stem)[1] not in accounts for p in files)
    before = [p.read_text() for p in files]
    agencies = tmp_path / "agencies.yaml"
    CliRunner().invoke(app, ["nats-config", str(agencies), "--out", str(generated)])
    assert [p.read_text() for p in files] == before


def test_a_bad_agency_list_is_refused(tmp_path):
    agencies = tmp_path / "agencies.yaml"
    agencies.write_text("agencies:\n  - id: 'ps.*'\n")
    result = CliRunner().invoke(app, ["nats-config", str(agencies), "--out", str(tmp_path)])
    assert result.exit_code == 2


async def test_an_agency_reports_only_for_itself(hub, generated):
    services = await _connect(hub, generated, "peerline")
    try:
        await provision(services.jetstream())
        errors: list[str] = []
        agency = await _connect(hub, generated, A, errors)
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


async def test_an_agency_follows_its_own_incidents_and_no_care_event(hub, generated):
    """Decision 68: an agency reads its own incidents' events, live or through one
    durable named by its id, and its rejections; another agency's incidents, any care
    event and any other durable are refused."""
    incidents = await _connect(hub, generated, "incidents")
    operators = await _connect(hub, generated, "peerline")
    errors: list[str] = []
    agency = await _connect(hub, generated, A, errors)
    try:
        await provision(operators.jetstream())
        live = await agency.subscribe(f"ps.{A}.incident.*")
        for refused in (f"ps.{B}.incident.*", f"ps.{A}.assignment.*", f"ps.{A}.contact.*"):
            await agency.subscribe(refused)
        await agency.flush()
        await incidents.jetstream().publish(f"ps.{A}.incident.reported", b'{"n": 1}')
        assert (await live.next_msg(timeout=5)).data == b'{"n": 1}'
        js = agency.jetstream()
        mine = ConsumerConfig(name=A, durable_name=A, filter_subject=f"ps.{A}.incident.*")
        durable = await js.pull_subscribe_bind(
            durable=(await js.add_consumer(EVENTS.name, mine)).name, stream=EVENTS.name
        )
        [caught_up] = await durable.fetch(1, timeout=5)
        assert caught_up.data == b'{"n": 1}'
        await caught_up.ack()
        for name, filter_subject in (
            (A, f"ps.{A}.assignment.*"),
            ("roster-incidents", f"ps.{A}.incident.*"),
        ):
            with pytest.raises((NatsTimeout, nats.errors.Error)):
                await js.add_consumer(
                    EVENTS.name,
                    ConsumerConfig(name=name, durable_name=name, filter_subject=filter_subject),
                    timeout=1,
                )
    finally:
        for client in (agency, incidents, operators):
            await client.close()
    violations = "\n".join(errors).lower()
    for refused in (f"ps.{B}.incident.*", f"ps.{A}.assignment.*", f"ps.{A}.contact.*"):
        assert f'subscription to "{refused}"'.lower() in violations


async def test_credentials_rotate_without_dropping_a_connection(hub, generated):
    """Rotate: old and new users both valid after a reload, and the agency's open
    connection keeps reporting. Retire: the next reload disconnects and refuses the old
    user only, and the new one keeps reporting."""
    services = await _connect(hub, generated, "peerline")
    old_user, old_password = credentials(generated, A)
    old = await _connect(hub, generated, A)
    try:
        await provision(services.jetstream())
        nats_config(generated.parent / "agencies.yaml", generated, "--rotate", A)
        assert credentials(generated, f"{A}.previous") == (old_user, old_password)
        assert credentials(generated, A)[0] == f"{A}.2"
        hub.reload()
        new = await _connect(hub, generated, A)
        for client in (old, new):
            await _report(client, A)

        nats_config(generated.parent / "agencies.yaml", generated, "--retire", A)
        hub.reload()
        await await_until(lambda: old.is_closed, timeout=5, what="the old user's disconnection")
        await _report(new, A)
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(
                f"nats://127.0.0.1:{hub.port}",
                tls=trusting(hub.ca_file),
                user=old_user,
                password=old_password,
                allow_reconnect=False,
                max_reconnect_attempts=0,
            )
        await new.close()
    finally:
        await old.close()
        await services.close()


def test_rotation_is_refused_out_of_order(tmp_path, generated):
    agencies = tmp_path / "agencies.yaml"
    for options in (["--retire", A], ["--rotate", "CA0999999"], ["--rotate", A, "--retire", A]):
        argv = ["nats-config", str(agencies), "--out", str(generated), *options]
        assert CliRunner().invoke(app, argv).exit_code == 2, options
    assert sorted(p.name for p in (generated / "credentials").iterdir()) == sorted(
        f"{who}.env" for who in IDENTITIES
    )


async def test_an_agency_site_reports_through_its_leaf_node_only_for_itself(
    tmp_path, hub, generated
):
    """The leaf-node example, filled in, joined to the region's server over TLS: a CAD on the
    site's server (no credentials of its own) reports for the agency and gets
    JetStream's acknowledgement back; another agency's intake stays out of reach."""
    services = await _connect(hub, generated, "peerline")
    leaf_port = free_port()
    config = tmp_path / "leaf.conf"
    region = f"127.0.0.1:{hub.leaf_port}"
    config.write_text(leaf_example(generated, A, region, hub.ca_file, leaf_port))
    leaf = ConfiguredServer(config, f"{A}-leaf", leaf_port)
    try:
        await provision(services.jetstream())
        cad = await nats.connect(f"nats://127.0.0.1:{leaf_port}", inbox_prefix=f"_INBOX_{A}")
        try:
            await await_until(lambda: _leaf_joined(hub), timeout=10, what="the leaf's link")
            await _report(cad, A)
            # The region tells the site of no interest beyond what the agency may publish.
            with pytest.raises(NoStreamResponseError):
                await cad.jetstream().publish(f"ps.{B}.intake.incident", b"{}", timeout=1)
        finally:
            await cad.close()
        info = await services.jetstream().stream_info(INTAKE.name, subjects_filter="ps.>")
        assert info.state.subjects == {f"ps.{A}.intake.incident": 1}
    finally:
        leaf.stop()
        await services.close()


def test_operators_tools_connect_as_the_services_user(hub, generated):
    """`peerline dlq` (and `events tail`, the same connection) as the services' user,
    from the credentials file's variables or the URL, trusting the region's CA; refused
    without either, and the password never printed."""
    user, password = credentials(generated, "peerline")

    async def provisioned() -> None:
        nc = await nats.connect(
            f"nats://127.0.0.1:{hub.port}",
            user=user,
            password=password,
            tls=trusting(hub.ca_file),
        )
        await provision(nc.jetstream())
        await nc.close()

    asyncio.run(provisioned())
    ca = {"PEERLINE_NATS_CA_FILE": str(hub.ca_file)}
    runner = CliRunner(
        env={"PEERLINE_NATS_URL": None, "NATS_USER": None, "NATS_PASSWORD": None, **ca}
    )
    url = f"nats://127.0.0.1:{hub.port}"
    untrusted = runner.invoke(
        app,
        ["dlq", "list", "--nats-url", f"nats://{user}:{password}@{url[7:]}"],
        env={"PEERLINE_NATS_CA_FILE": None},
    )
    assert untrusted.exit_code == 1
    assert "certificate verify failed" in untrusted.output
    refused = runner.invoke(app, ["dlq", "list", "--nats-url", url])
    assert refused.exit_code == 1
    assert "Authorization Violation" in refused.output
    from_file = runner.invoke(
        app, ["dlq", "list", "--nats-url", url], env={"NATS_USER": user, "NATS_PASSWORD": password}
    )
    assert from_file.exit_code == 0, from_file.output
    in_url = runner.invoke(
        app, ["dlq", "list", "--nats-url", f"nats://{user}:{password}@{url[7:]}"]
    )
    assert in_url.exit_code == 0, in_url.output
    wrong = runner.invoke(
        app, ["dlq", "list", "--nats-url", f"nats://{user}:x{password}@{url[7:]}"]
    )
    assert wrong.exit_code == 1
    assert password not in wrong.output and url in wrong.output


async def _report(client, agency: str) -> None:
    ack = await client.jetstream().publish(f"ps.{agency}.intake.incident", b"{}", timeout=5)
    assert ack.stream == INTAKE.name


def _leaf_joined(hub: ConfiguredServer) -> bool:
    """The hub's monitoring endpoint counts the site's leaf-node link."""
    leafz = httpx.get(f"http://127.0.0.1:{hub.monitor_port}/leafz", timeout=2, trust_env=False)
    return leafz.json()["leafnodes"] >= 1


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


@pytest.mark.parametrize("tls", ["tls-off.conf", "tls.conf"])
def test_nats_server_accepts_the_cluster_node_configuration(tmp_path, generated, tls):
    """The committed file, as each compose node reads it: its name from the environment,
    the generated accounts and either TLS file beside it."""
    config = tmp_path / "nats-server.conf"
    shutil.copy(NATS_DIR / "nats-server.conf", config)
    if tls == "tls.conf":
        write_certificates(tmp_path / "certs", ["nats-1", "nats-2", "nats-3"])
        (tmp_path / "tls.conf").write_text(tls_conf(tmp_path / "certs", "0.0.0.0:7422"))
    else:
        shutil.copy(NATS_DIR / tls, tmp_path / "tls.conf")
    done = _check(config, NATS_SERVER_NAME="nats-1")
    assert done.returncode == 0, done.stderr
    missing = _check(config)
    assert missing.returncode != 0
    assert "NATS_SERVER_NAME" in missing.stderr


def test_nats_server_accepts_the_agency_leaf_node_example(tmp_path, generated):
    ca_file = write_certificates(tmp_path / "certs", ["peerline.example.org"])
    config = tmp_path / "leaf.conf"
    config.write_text(leaf_example(generated, A, "peerline.example.org:7422", ca_file))
    done = _check(config)
    assert done.returncode == 0, done.stderr


def test_nats_server_check_catches_a_broken_configuration(tmp_path, generated):
    broken = tmp_path / "broken.conf"
    accounts = (generated / "accounts.conf").read_text()
    broken.write_text(accounts.replace('"allow"', '"alow"', 1))
    done = _check(broken)
    assert done.returncode != 0
    assert "alow" in done.stderr
