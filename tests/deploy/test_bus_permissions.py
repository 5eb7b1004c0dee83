"""Each service's NATS user, made from `shared.bus_permissions` (decision 67), on a real
nats-server: the owner of a subject may publish it and nobody else may, so a forged
event is refused by the server itself; and a service reads only its own durables."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig
from nats.js.errors import NoStreamResponseError

from peerline.natsconfig import OPERATORS, read_credential, write_users
from peerline.natsd import free_port
from services.checkins.app import create_app as create_checkins
from services.incidents.app import create_app as create_incidents
from services.metrics.app import create_app as create_metrics
from services.notify.app import create_app as create_notify
from services.roster.app import create_app as create_roster
from shared.bus_permissions import USERS, inbox_prefix
from shared.events import FeedbackSubmitted, IncidentReported
from shared.figures import oldest_unacknowledged
from shared.settings import Settings
from shared.streams import DLQ, EVENTS, provision
from shared.vocab import Category
from tests.support.natsauth import ConfiguredServer

AGENCY = "CA0190000"


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[ConfiguredServer, Path]]:
    """A nats-server with the users `peerline nats-config` writes, and where they are."""
    auth = tmp_path / "auth"
    write_users([AGENCY], auth)
    port = free_port()
    config = tmp_path / "nats.conf"
    config.write_text(
        f"server_name: bus\nlisten: 127.0.0.1:{port}\n"
        f"jetstream {{ store_dir: {json.dumps(str(tmp_path / 'js'))} }}\n"
        "include auth/accounts.conf\n"  # relative to this file
    )
    hub = ConfiguredServer(config, "bus", port)
    yield hub, auth
    hub.stop()


async def _as(server, identity: str, errors: list[str] | None = None) -> nats.NATS:
    hub, auth = server
    user, password = read_credential(auth, identity)

    async def on_error(exc: Exception) -> None:
        if errors is not None:
            errors.append(str(exc))

    return await nats.connect(
        f"nats://127.0.0.1:{hub.port}",
        user=user,
        password=password,
        inbox_prefix=inbox_prefix(identity),
        error_cb=on_error,
        max_reconnect_attempts=0,
    )


@pytest.fixture
async def operators(server) -> AsyncIterator[nats.NATS]:
    nc = await _as(server, OPERATORS)
    await provision(nc.jetstream())
    yield nc
    await nc.close()


def _reported() -> IncidentReported:
    return IncidentReported(
        agency_id=AGENCY,
        incident_id="00000000-0000-4000-8000-000000000001",
        external_id="24-FORGED",
        category=Category.OFFICER_INVOLVED_SHOOTING,
        occurred_at="2026-01-01T00:00:00Z",
        involved=[{"personnel_id": "B1", "role": "primary"}],
    )


async def _publish(nc: nats.NATS, event) -> bool:
    """Whether the stream stored `event` published by `nc`."""
    try:
        await nc.jetstream().publish(event.subject, event.model_dump_json().encode(), timeout=1)
    except (NatsTimeout, NoStreamResponseError):
        return False
    return True


async def test_only_the_owner_of_a_subject_may_publish_it(server, operators):
    forged = {"roster": _reported(), "metrics": _reported(), "notify": _reported()}
    feedback = FeedbackSubmitted(agency_id=AGENCY, rating=1, would_recommend=False)
    results = {}
    for identity, event in [
        *forged.items(),
        ("roster", feedback),
        (AGENCY, feedback),
        ("incidents", _reported()),
        ("checkins", feedback),
    ]:
        errors: list[str] = []
        nc = await _as(server, identity, errors)
        try:
            results[identity, event.verb] = (await _publish(nc, event), errors)
        finally:
            await nc.close()
    for identity in ("roster", "metrics", "notify"):
        stored, errors = results[identity, "reported"]
        assert not stored and any("permissions violation" in e.lower() for e in errors)
    assert not results["roster", "submitted"][0] and not results[AGENCY, "submitted"][0]
    assert results["incidents", "reported"][0] and results["checkins", "submitted"][0]
    info = await operators.jetstream().stream_info(EVENTS.name, subjects_filter="ps.>")
    assert info.state.subjects == {
        f"ps.{AGENCY}.incident.reported": 1,
        f"ps.{AGENCY}.feedback.submitted": 1,
    }


async def test_a_service_reads_only_its_own_durables_through_its_own_inbox(server, operators):
    errors: list[str] = []
    notify = await _as(server, "notify", errors)
    js = notify.jetstream()
    try:
        mine = USERS["notify"].consumes[0]
        await js.add_consumer(
            mine.stream.name,
            ConsumerConfig(
                name=mine.durable, durable_name=mine.durable, filter_subject=mine.filter
            ),
        )
        for durable, filter_subject in [
            (mine.durable, "ps.>"),  # its own durable, reading everything
            ("metrics-events", "ps.>"),  # another service's durable
        ]:
            with pytest.raises((NatsTimeout, NatsError)):
                await js.add_consumer(
                    EVENTS.name,
                    ConsumerConfig(
                        name=durable, durable_name=durable, filter_subject=filter_subject
                    ),
                    timeout=1,
                )
        await notify.subscribe("ps.>")  # a plain subscription to the events
        await notify.subscribe("_INBOX_metrics.>")  # another service's replies
        await notify.flush()
        await notify.flush()
    finally:
        await notify.close()
    violations = "\n".join(errors).lower()
    assert 'subscription to "ps.>"' in violations
    assert 'subscription to "_inbox_metrics.>"' in violations


async def test_a_service_reads_its_own_figures_with_its_own_user(server, operators):
    """What `shared.figures` reads of the bus for a service: its durables' counts, the
    oldest message a durable has not acknowledged (through `<durable>-lag`, with the
    durable's one filter), and its dead letters; the lag consumer with another filter
    is refused."""
    errors: list[str] = []
    notify = await _as(server, "notify", errors)
    js = notify.jetstream()
    mine = USERS["notify"].consumes[0]
    try:
        await js.add_consumer(
            mine.stream.name,
            ConsumerConfig(
                name=mine.durable, durable_name=mine.durable, filter_subject=mine.filter
            ),
        )
        published = operators.jetstream()
        await published.publish(f"ps.{AGENCY}.incident.reported", b"{}")  # not its filter
        await published.publish(mine.filter.replace("*", AGENCY, 1), b"{}")
        info = await js.consumer_info(mine.stream.name, mine.durable)
        assert info.num_pending == 1
        oldest = await oldest_unacknowledged(
            js, mine.stream.name, mine.durable, mine.filter, info.ack_floor.stream_seq + 1
        )
        dead = await js.stream_info(DLQ.name, subjects_filter="peerline.dlq.notify.>")
        assert errors == []
        assert oldest is not None and abs(oldest - time.time()) < 30
        assert not dead.state.subjects
        with pytest.raises((NatsTimeout, NatsError)):
            await oldest_unacknowledged(js, mine.stream.name, mine.durable, "ps.>", 1)
    finally:
        await notify.close()
    assert any("permissions violation" in e.lower() for e in errors)


@pytest.mark.parametrize(
    ("service", "create"),
    [
        ("incidents", create_incidents),
        ("roster", create_roster),
        ("checkins", create_checkins),
        ("notify", create_notify),
        ("metrics", create_metrics),
    ],
)
def test_every_consumer_a_service_registers_is_in_the_table(service, create, tmp_path):
    """Building the app registers its consumers; one the table lacks stops the build
    (`ServiceRuntime.consume`), and none the table names is missing."""
    app = create(Settings(service=service, data_dir=tmp_path, nats_url="nats://127.0.0.1:1"))
    runtime = app.state.runtime
    registered = {(c.stream.name, c.durable, c.subject) for c in runtime.consumers}
    assert registered == {(c.stream.name, c.durable, c.filter) for c in USERS[service].consumes}
