"""`peerline events tail`: events on the bus from now on, decoded, from every stream."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
import pytest
from nats.js import JetStreamContext

from peerline.natsd import NatsServer
from shared.cloudevents import encode
from shared.events import CheckInDue, IncidentReported, Involved
from shared.streams import provision
from shared.vocab import Category, InvolvedRole

AGENCY = "CA0190000"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def js(nats_server: NatsServer) -> AsyncIterator[JetStreamContext]:
    nc = await nats.connect(nats_server.url)
    stream = nc.jetstream()
    await provision(stream)
    yield stream
    await nc.close()


@asynccontextmanager
async def tail(*args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """`peerline events tail ARGS` as its own process, once it follows the bus."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "peerline", "events", "tail", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        async with asyncio.timeout(20):
            while b"following" not in (line := await proc.stderr.readline()):
                assert line, "the tail exited before following the bus"
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def lines_until_exit(proc: asyncio.subprocess.Process, timeout: float = 30) -> list[str]:
    async with asyncio.timeout(timeout):
        stdout, _ = await proc.communicate()
    assert proc.returncode == 0
    return stdout.decode().splitlines()


def incident() -> IncidentReported:
    return IncidentReported(
        agency_id=AGENCY,
        incident_id=uuid.uuid4(),
        external_id="CAD-2024-0042",
        category=Category.OFFICER_INVOLVED_SHOOTING,
        involved=[Involved(personnel_id="B-1234", role=InvolvedRole.PRIMARY)],
    )


async def publish(js: JetStreamContext, event) -> None:
    payload, headers = encode(event, source="tests")
    await js.publish(event.subject, payload, headers=headers, timeout=5)


async def test_follows_new_messages_of_every_stream_decoded_or_raw(
    nats_server: NatsServer, js: JetStreamContext
) -> None:
    await js.publish(f"ps.{AGENCY}.intake.incident", b'{"before": "the tail"}', timeout=5)
    async with tail("--nats-url", nats_server.url, "--count", "2") as proc:
        await js.publish(f"ps.{AGENCY}.intake.incident", b'{"external_id": "CAD-1"}', timeout=5)
        event = incident()
        await publish(js, event)
        raw_line, event_line = await lines_until_exit(proc)

    assert f"ps.{AGENCY}.intake.incident" in raw_line
    assert '{"external_id":"CAD-1"}' in raw_line
    stamp, ce_type, subject, payload = event_line.split("  ")
    assert datetime.fromisoformat(stamp).tzinfo is not None
    assert ce_type == "peerline.incident.reported.v1"
    assert subject == event.subject
    assert json.loads(payload)["event_id"] == str(event.event_id)


async def test_sees_what_the_server_writes_for_a_message_schedule(
    nats_server: NatsServer, js: JetStreamContext
) -> None:
    due = CheckInDue(
        agency_id=AGENCY,
        checkin_id=uuid.uuid4(),
        assignment_id=uuid.uuid4(),
        supporter_id="pso-7",
    )
    payload, headers = encode(due, source="tests")
    fire_at = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers |= {"Nats-Schedule": f"@at {fire_at}", "Nats-Schedule-Target": due.subject}

    async with tail(
        "--nats-url", nats_server.url, "--count", "1", f"ps.{AGENCY}.checkin.due"
    ) as proc:
        await js.publish(
            f"ps.{AGENCY}.checkin.timer.{due.checkin_id}", payload, headers=headers, timeout=5
        )
        (line,) = await lines_until_exit(proc)

    assert f"peerline.checkin.due.v1  {due.subject}  " in line
    assert str(due.checkin_id) in line


@pytest.mark.faults
async def test_a_restarted_server_does_not_replay_what_was_there_before(
    nats_server: NatsServer, js: JetStreamContext
) -> None:
    await js.publish(f"ps.{AGENCY}.intake.incident", b'{"old": true}', timeout=5)
    async with tail("--nats-url", nats_server.url, "--count", "1") as proc:
        nats_server.kill()
        nats_server.start()
        async with asyncio.timeout(30):
            while b"reconnected" not in await proc.stderr.readline():
                pass
        nc = await nats.connect(nats_server.url)
        try:
            await nc.jetstream().publish(
                f"ps.{AGENCY}.intake.incident", b'{"new": true}', timeout=5
            )
        finally:
            await nc.close()
        (line,) = await lines_until_exit(proc, timeout=60)

    assert line.endswith('{"new":true}')


async def test_without_a_stack_it_says_where_the_url_comes_from(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PEERLINE_NATS_URL"}
    env["PYTHONPATH"] = str(ROOT)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "peerline", "events", "tail", "--data-dir", str(tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    async with asyncio.timeout(20):
        _, stderr = await proc.communicate()
    assert proc.returncode == 2
    assert b"PEERLINE_NATS_URL" in stderr
