"""The local NATS server that `peerline up` and the integration tests run."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import nats
import pytest

from peerline.natsd import NatsServer, nats_server_binary


def test_the_server_is_the_packaged_one_with_message_schedules() -> None:
    binary = nats_server_binary()
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    major, minor = map(int, version.stdout.strip().removeprefix("nats-server: v").split(".")[:2])
    assert binary != Path("/usr/sbin/nats-server")
    assert (major, minor) >= (2, 14)


async def test_jetstream_acknowledges_a_publish(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="PROBE", subjects=["probe.>"])
        ack = await js.publish("probe.one", b"hello", timeout=5)
        assert (ack.stream, ack.seq) == ("PROBE", 1)
    finally:
        await nc.close()


async def test_kill_and_start_keep_the_port_and_the_stored_messages(
    nats_server: NatsServer,
) -> None:
    url = nats_server.url
    nc = await nats.connect(url, max_reconnect_attempts=0)
    js = nc.jetstream()
    await js.add_stream(name="PROBE", subjects=["probe.>"])
    for n in range(3):
        await js.publish("probe.n", str(n).encode(), timeout=5)
    await nc.close()

    nats_server.kill()
    assert not nats_server.alive()
    nats_server.start()

    assert nats_server.url == url
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        stored = [(await js.get_msg("PROBE", seq)).data for seq in (1, 2, 3)]
        assert stored == [b"0", b"1", b"2"]
    finally:
        await nc.close()


def test_a_busy_port_fails_with_the_servers_own_explanation(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        server = NatsServer(tmp_path / "nats", port=squatter.getsockname()[1], ready_timeout=5)
        with pytest.raises(RuntimeError, match="did not start") as failure:
            server.start()
    assert "address already in use" in str(failure.value)
    assert not server.alive()
