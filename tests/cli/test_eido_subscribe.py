"""`peerline eido subscribe`: an STA-024 subscriber against a notifier started here, the
PSAP's side, over mutual TLS from a throwaway PKI, reporting to a real incidents service.

The notifier answers `subscribe` and `unsubscribe` and keeps every message the client
sends; the test decides when it sends an `event`, drops the connection or stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from peerline.cli import app
from peerline.eido_subscribe import SUBPROTOCOL, subscribe, tls_for
from peerline.natsd import free_port
from shared.events import IncidentReported
from shared.streams import EVENTS
from shared.tokens import Role
from tests.conftest import JWT_SECRET, bearer, token
from tests.support.bus import EventLog
from tests.support.certs import alternative_names, new_ca, new_leaf, server_auth, write
from tests.support.eido import eido

SHOOTING = "urn:emergency:uid:incidentid:7f3a9c21e4b:psap.springfield.example"
AGENCY_IDS = ["pd.springfield.example", "psap.springfield.example"]
WAIT = 10.0


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


@pytest.fixture
def pki(tmp_path) -> Pki:
    """A CA, the notifier's certificate for 127.0.0.1 and a client certificate."""
    ca = new_ca("Test PSAP CA")
    server = new_leaf("notifier", ca, alternative_names(["127.0.0.1"]), server_auth())
    client = new_leaf(
        "peerline-subscriber", ca, x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    )
    write(tmp_path / "ca.pem", ca[0])
    write(tmp_path / "server.pem", server[0], tmp_path / "server.key", server[1])
    write(tmp_path / "client.pem", client[0], tmp_path / "client.key", client[1])
    return Pki(
        tmp_path / "ca.pem",
        tmp_path / "server.pem",
        tmp_path / "server.key",
        tmp_path / "client.pem",
        tmp_path / "client.key",
    )


class Notifier:
    """The PSAP's side of STA-024: grants subscriptions, sends the test's events and
    keeps every message the client sends, in order."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[dict] = asyncio.Queue()
        self.connections: list[ServerConnection] = []
        self.url = ""
        self.expires = 3600  # the subscription period it grants, in seconds

    async def handle(self, connection: ServerConnection) -> None:
        self.connections.append(connection)
        with contextlib.suppress(ConnectionClosed):
            async for raw in connection:
                message = json.loads(raw)
                await self.inbox.put(message)
                if "subscribe" in message:
                    request = message["subscribe"]
                    await self._answer(
                        connection, "subscribeResponse", request, expires=self.expires
                    )
                elif "unsubscribe" in message:
                    await self._answer(connection, "unsubscribeResponse", message["unsubscribe"])

    async def _answer(self, connection, kind: str, request: dict, **more) -> None:
        answer = {
            "requestId": request["requestId"],
            "subscriptionId": request.get("subscriptionId") or "sub-1",
            **more,
            "statusCode": 200,
            "statusText": "OK",
        }
        await connection.send(json.dumps({kind: answer}))

    async def next(self, kind: str) -> dict:
        """The client's next message of `kind` (others before it are skipped)."""
        async with asyncio.timeout(WAIT):
            while True:
                message = await self.inbox.get()
                if kind in message:
                    return message[kind]

    async def notify(self, *eidos: dict) -> str:
        """Send an `event` with `eidos` on the latest connection; its transactionId."""
        transaction = str(uuid.uuid4())
        event = {"subscriptionId": "sub-1", "transactionId": transaction, "notification": eidos}
        await self.connections[-1].send(json.dumps({"event": event}))
        return transaction


def _server_tls(pki: Pki) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.load_verify_locations(pki.ca)
    context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no client certificate, no service
    return context


@contextlib.asynccontextmanager
async def running_notifier(pki: Pki) -> AsyncIterator[Notifier]:
    notifier = Notifier()
    async with serve(
        notifier.handle, "127.0.0.1", 0, ssl=_server_tls(pki), subprotocols=[SUBPROTOCOL]
    ) as server:
        port = server.sockets[0].getsockname()[1]
        notifier.url = f"wss://127.0.0.1:{port}/IncidentData/ent"
        yield notifier


@contextlib.asynccontextmanager
async def subscribed(
    notifier: Notifier, pki: Pki, incidents_url: str, agency: str, lines: list[str]
) -> AsyncIterator[asyncio.Task]:
    """The client running in this loop until the block ends, as Ctrl-C would end it."""
    tls = tls_for(notifier.url, cert=pki.client_cert, key=pki.client_key, ca=pki.ca, insecure=False)
    client = asyncio.create_task(
        subscribe(
            notifier.url, tls, incidents_url, lambda: token(agency, Role.INGEST), lines.append
        )
    )
    try:
        yield client
    finally:
        client.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await client


async def test_events_are_reported_and_answered_with_peerlines_verdict(incidents, agency, pki):
    async with httpx.AsyncClient() as http:
        configured = await http.put(
            f"{incidents.url}/v1/eido/settings",
            json={"agency_identifiers": AGENCY_IDS},
            headers=bearer(agency, Role.COORDINATOR),
        )
    assert configured.status_code == 200, configured.text
    malformed = eido("shooting")
    del malformed["incidentComponent"]["incidentTypeCommonRegistryText"]
    lines: list[str] = []
    async with (
        EventLog(incidents.nats_url, f"ps.{agency}.>", EVENTS.name) as log,
        running_notifier(pki) as notifier,
    ):
        async with subscribed(notifier, pki, incidents.url, agency, lines):
            request = await notifier.next("subscribe")
            sent = await notifier.notify(eido("shooting"))
            accepted = await notifier.next("eventResponse")
            [reported] = await log.wait_for(IncidentReported)
            refused_id = await notifier.notify(malformed)
            refused = await notifier.next("eventResponse")
        unsubscribe = await notifier.next("unsubscribe")
    assert request["requestType"] == "EIDO"
    assert request["requestSubType"] == "new"
    assert "subscriptionId" not in request
    assert accepted == {"transactionId": sent, "statusCode": 200, "statusText": "OK"}
    assert reported.external_id == SHOOTING
    assert refused == {"transactionId": refused_id, "statusCode": 400, "statusText": "Bad Request"}
    assert unsubscribe["subscriptionId"] == "sub-1"
    assert notifier.connections[0].close_code == 1000  # a normal close, after unsubscribing
    assert lines[0] == f"subscribed to {notifier.url}"
    assert lines[1] == "event: accepted"
    assert lines[2].startswith("event refused by Peerline (422): $.event.notification[0]")
    assert lines[-1] == "unsubscribed"


async def test_an_unreachable_peerline_is_a_transient_error_and_the_client_stays(pki, agency):
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with (
        running_notifier(pki) as notifier,
        subscribed(notifier, pki, nowhere, agency, []) as client,
    ):
        await notifier.next("subscribe")
        await notifier.notify(eido("shooting"))
        first = await notifier.next("eventResponse")
        await notifier.notify(eido("shooting"))
        again = await notifier.next("eventResponse")
        assert not client.done()
    assert (first["statusCode"], again["statusCode"]) == (503, 503)
    assert first["statusText"] == "Service Unavailable"


async def test_a_dropped_connection_is_made_again_and_subscribed_again(pki, agency):
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with (
        running_notifier(pki) as notifier,
        subscribed(notifier, pki, nowhere, agency, []),
    ):
        await notifier.next("subscribe")
        await notifier.connections[0].close()
        again = await notifier.next("subscribe")
    assert len(notifier.connections) == 2
    assert again["requestType"] == "EIDO"  # a new subscription, not a renewal


async def test_a_subscription_is_renewed_before_it_expires(pki, agency):
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with running_notifier(pki) as notifier:
        notifier.expires = 1
        async with subscribed(notifier, pki, nowhere, agency, []):
            await notifier.next("subscribe")
            renewal = await notifier.next("subscribe")
    assert renewal["subscriptionId"] == "sub-1"
    assert "requestType" not in renewal  # STA-024: a renewal names the subscription only
    assert len(notifier.connections) == 1


async def test_a_client_without_a_certificate_is_refused(pki):
    anonymous = ssl.create_default_context(cafile=pki.ca)
    async with running_notifier(pki) as notifier:
        with pytest.raises((ssl.SSLError, InvalidHandshake)):
            async with connect(notifier.url, ssl=anonymous, subprotocols=[SUBPROTOCOL]) as ws:
                await ws.send(json.dumps({"subscribe": {"requestId": "r-1"}}))
                await ws.recv()
    assert notifier.connections == []


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ws://127.0.0.1:1/ent", "ws:// has no TLS"),
        ("wss://127.0.0.1:1/ent", "wss:// needs --cert, --key and --ca"),
    ],
)
def test_without_mutual_tls_it_does_not_connect(url, says):
    runner = CliRunner(env={"PEERLINE_JWT_SECRET": JWT_SECRET})
    result = runner.invoke(
        app,
        ["eido", "subscribe", url, "--agency", "CA0190000", "--incidents-url", "http://x"],
    )
    assert result.exit_code == 2
    assert says in result.stderr
