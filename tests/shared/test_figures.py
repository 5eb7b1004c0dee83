"""The figures every service exports for its operators (`shared.figures`), read over HTTP
from `/metrics` of a service on the kernel, on a real nats-server: a durable that falls
behind and catches up, an outbox that waits for the bus, dead letters, the connection
and the certificate the service trusts."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path

import httpx
import nats
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from peerline.natsd import NatsServer
from shared import bus, cloudevents, db, outbox
from shared.events import FeedbackSubmitted
from shared.figures import certificate_expiry
from shared.streams import EVENTS, provision
from tests.support.certs import new_ca
from tests.support.effects import MIGRATIONS, effects_runtime
from tests.support.figures import scrape, value
from tests.support.server import ThreadedServer
from tests.support.waiting import await_until

SERVICE = {"service": "effects"}
DURABLE = {"service": "effects", "durable": "effects"}


def _feedback(n: int) -> list[FeedbackSubmitted]:
    return [FeedbackSubmitted(agency_id="A1", rating=5, would_recommend=True) for _ in range(n)]


async def _publish(js, events: list[FeedbackSubmitted]) -> None:
    for event in events:
        payload, headers = cloudevents.encode(event, source="test")
        await bus.publish_raw(js, event.subject, payload, headers, timeout=5)


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'effects.db'}"


def _serve(runtime) -> ThreadedServer:
    app = runtime.create_app(title="Effects", description="A service on the kernel alone.")
    return ThreadedServer(app).start()


async def _ready(url: str) -> bool:
    async with httpx.AsyncClient(base_url=url, timeout=2) as client:
        return (await client.get("/readyz")).status_code == 200


@pytest.fixture
async def js(nats_url):
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    yield js
    await nc.close()


async def test_a_durable_that_falls_behind_shows_pending_and_lag_then_none(js, nats_url, tmp_path):
    """Pending counts what the durable has not acknowledged, and the lag is the age of
    the oldest such message of its own subject, not of whatever the stream stored after
    its ack floor."""
    hold = threading.Event()

    async def stall(_items) -> None:
        while hold.is_set():
            await asyncio.sleep(0.05)

    runtime = effects_runtime(
        nats_url, _sqlite(tmp_path), tmp_path, before_apply=stall, figures_interval=0.2
    )
    server = _serve(runtime)
    try:
        await await_until(lambda: _ready(server.url), timeout=30, what="ready")
        await _publish(js, _feedback(1))

        async def caught_up() -> bool:
            found = await scrape(server.url)
            return (
                value(found, "peerline_consumer_pending_messages", **DURABLE) == 0
                and value(found, "peerline_consumer_lag_seconds", **DURABLE) == 0
            )

        await await_until(caught_up, timeout=30, what="the first message acknowledged")
        # Stored after the ack floor, but not the durable's subject.
        await js.publish("ps.A1.incident.reported", b"{}", stream=EVENTS.name)
        await asyncio.sleep(1.5)
        hold.set()
        await _publish(js, _feedback(2))

        async def behind() -> float | None:
            found = await scrape(server.url)
            lag = value(found, "peerline_consumer_lag_seconds", **DURABLE)
            pending = value(found, "peerline_consumer_pending_messages", **DURABLE)
            return lag if pending == 2 and lag else None

        lag = await await_until(behind, timeout=30, what="two messages pending, with a lag")
        assert 0 < lag < 1.4, "the lag counted from a message the durable does not read"
        await asyncio.sleep(0.3)
        assert await behind() > lag, "the lag stands still between readings"

        hold.clear()
        await await_until(caught_up, timeout=30, what="caught up again")
    finally:
        hold.clear()
        server.stop()


async def test_the_outbox_waits_for_the_bus_and_dead_letters_are_counted(tmp_path):
    """While NATS is away: committed rows wait, their age grows, the bus is down and no
    server is known; the CA file's end is shown all along. Once NATS is up: connected,
    one server, the outbox drained; then a poison message is one dead letter."""
    nats_server = NatsServer(tmp_path / "nats")  # not started yet
    ca, _key = new_ca("Figures test CA")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    settings = {"figures_interval": 0.2, "nats_ca_file": ca_file}

    staging = effects_runtime(nats_server.url, _sqlite(tmp_path), tmp_path, **settings)
    await db.migrate(staging.engine, MIGRATIONS)
    async with staging.sessions() as session:
        for event in _feedback(3):
            outbox.add(session, event, source="test")
        await session.commit()
    await staging.engine.dispose()

    runtime = effects_runtime(nats_server.url, _sqlite(tmp_path), tmp_path, **settings)
    server = _serve(runtime)
    try:
        certificate = {**SERVICE, "file": str(ca_file)}
        ends = ca.not_valid_after_utc.timestamp()

        async def waiting() -> bool:
            found = await scrape(server.url)
            return (
                value(found, "peerline_outbox_pending_rows", **SERVICE) == 3
                and value(found, "peerline_outbox_oldest_age_seconds", **SERVICE) > 0
                and value(found, "peerline_bus_connected", **SERVICE) == 0
                and value(found, "peerline_nats_servers_known", **SERVICE) == 0
                and value(found, "peerline_certificate_expiry_timestamp_seconds", **certificate)
                == ends
            )

        await await_until(waiting, timeout=30, what="the outbox waiting, the bus away")

        nats_server.start()

        async def drained() -> bool:
            found = await scrape(server.url)
            return (
                value(found, "peerline_bus_connected", **SERVICE) == 1
                and value(found, "peerline_nats_servers_known", **SERVICE) == 1
                and value(found, "peerline_outbox_pending_rows", **SERVICE) == 0
                and value(found, "peerline_outbox_oldest_age_seconds", **SERVICE) == 0
                and value(found, "peerline_dlq_messages", **SERVICE) == 0
            )

        await await_until(drained, timeout=30, what="connected and the outbox drained")

        nc = await nats.connect(nats_server.url)
        try:
            await nc.jetstream().publish(
                "ps.A1.feedback.submitted", b"not an event", stream=EVENTS.name
            )
        finally:
            await nc.close()

        async def dead_lettered() -> bool:
            found = await scrape(server.url)
            return value(found, "peerline_dlq_messages", **SERVICE) == 1

        await await_until(dead_lettered, timeout=30, what="one dead letter counted")
    finally:
        server.stop()
        nats_server.stop()


def _certificate(key: ec.EllipticCurvePrivateKey, name: str, hours: int) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=hours))
        .sign(key, hashes.SHA256())
    )


@pytest.mark.unit
def test_a_bundle_ends_with_its_first_certificate_and_no_file_has_no_end(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    later, sooner = _certificate(key, "new CA", 48), _certificate(key, "old CA", 2)
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (later, sooner))
    )
    (tmp_path / "junk.pem").write_text("not a certificate\n")

    assert certificate_expiry(bundle) == sooner.not_valid_after_utc.timestamp()
    assert certificate_expiry(tmp_path / "junk.pem") is None
    assert certificate_expiry(tmp_path / "missing.pem") is None
