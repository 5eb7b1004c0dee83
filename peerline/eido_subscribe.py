"""`peerline eido subscribe`: an STA-024 subscriber that reports each EIDO notification to
Peerline's `POST /v1/eido`.

A PSAP's or CAD's notifier pushes EIDOs over a WebSocket (NENA-STA-024.1a, subprotocol
`emergency-ent1.0`) and Peerline's intake is HTTP. This client is the bridge an agency
runs beside its notifier, so the notifier needs nothing made for Peerline: it subscribes
to new incidents, forwards each `event` message as it came (the route reads that shape),
and answers the notifier with Peerline's verdict as an `eventResponse`. It stays
subscribed until stopped: a dropped connection is made again with backoff, and a
subscription is renewed before it expires. The messages and codes it relies on, and
where they come from, are decision 36.

Nothing of an EIDO is printed or sent back to the notifier: Peerline's 422 names JSON
paths, never values (decision 35), and the `eventResponse` carries only a status.
HTTP is the standard library's; `websockets` is all this adds to the `cli` extra.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import ssl
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

SUBPROTOCOL = "emergency-ent1.0"
ACCEPTS = 'application/emergency.eido+json; version="1"'
EXPIRES = 3600  # seconds asked for; the notifier's answer is what counts
RENEW_AT = 0.8  # of the granted period, so a renewal arrives before the end
ANSWER_WAIT = 10.0  # for a subscribeResponse
UNSUBSCRIBE_WAIT = 2.0  # on Ctrl-C: leave politely, but do not hang
MAX_MESSAGE = 8 * 2**20  # Peerline's body limit for /v1/eido
FORWARD_TIMEOUT = 30.0
FIRST_DELAY, MAX_DELAY = 1.0, 60.0  # reconnect backoff, doubling

# Peerline's answer to an event, as the eventResponse status codes STA-024 defines.
# Other refusals are the notifier's document at fault (400); a Peerline that answers
# 5xx or not at all is transient (503), so the notifier keeps the EIDOs to send again.
REFUSALS = {401: 403, 403: 403, 404: 404, 413: 413}


class Refused(Exception):
    """The notifier refused the subscription itself; trying again will not help."""


class Lost(Exception):
    """The subscription ended or got no answer; connect and subscribe again."""


def tls_for(
    url: str, *, cert: Path | None, key: Path | None, ca: Path | None, insecure: bool
) -> ssl.SSLContext | None:
    """Mutual TLS for `wss://`: this client's certificate, and only the notifier's CA
    trusted (NG9-1-1 PKI is not the web's). `ws://` only when asked for, for local tests.
    A `ValueError` says what is missing."""
    if url.startswith("ws://"):
        if not insecure:
            raise ValueError("ws:// has no TLS: use wss://, or --insecure for a local test")
        return None
    if not url.startswith("wss://"):
        raise ValueError("the notifier URL must start with wss://")
    if cert is None or key is None or ca is None:
        raise ValueError("wss:// needs --cert, --key and --ca (mutual TLS)")
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    context.load_cert_chain(cert, key)
    return context


def event_status(http_status: int | None) -> int:
    """The `eventResponse` status code for Peerline's HTTP answer (None: unreachable)."""
    if http_status == 202:
        return 200
    if http_status is not None and 400 <= http_status < 500:
        return REFUSALS.get(http_status, 400)
    return 503


def post_event(url: str, token: str, body: bytes) -> tuple[int | None, str]:
    """`POST /v1/eido` with one `event` message: Peerline's HTTP status (None when it
    could not be reached) and a line saying what came of it."""
    request = urllib.request.Request(
        f"{url.rstrip('/')}/v1/eido",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=FORWARD_TIMEOUT) as response:
            statuses = [answer["status"] for answer in json.load(response)]
            return response.status, f"event: {', '.join(statuses) or 'keep-alive'}"
    except urllib.error.HTTPError as refused:
        return refused.code, f"event refused by Peerline ({refused.code}): {_detail(refused)}"
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return None, f"event not reported, Peerline unreachable at {url}: {exc}"


def _detail(refused: urllib.error.HTTPError) -> str:
    """The problem document's detail: a JSON path and a reason, never a value."""
    try:
        return json.loads(refused.read()).get("detail") or refused.reason
    except ValueError:
        return refused.reason


class Subscriber:
    """One notifier, followed until cancelled; each event goes to `incidents_url` with a
    token from `token` (called per event, so a minted token never outlives its use)."""

    def __init__(
        self,
        notifier_url: str,
        tls: ssl.SSLContext | None,
        incidents_url: str,
        token: Callable[[], str],
        say: Callable[[str], None],
    ) -> None:
        self.notifier_url = notifier_url
        self.tls = tls
        self.incidents_url = incidents_url
        self.token = token
        self.say = say
        self.delay = FIRST_DELAY
        self.subscription_id: str | None = None
        self.pending: str | None = None  # the requestId of a subscribe not yet answered
        self.due: float | None = None  # when to give up on it, or to renew

    async def run(self) -> None:
        """Connect, subscribe and serve until cancelled; a failed or dropped connection
        is tried again after a delay that doubles up to a minute and starts over once
        subscribed. Only `Refused` ends it."""
        while True:
            try:
                async with connect(
                    self.notifier_url,
                    subprotocols=[SUBPROTOCOL],
                    ssl=self.tls,
                    max_size=MAX_MESSAGE,
                ) as websocket:
                    try:
                        await self._serve(websocket)
                    except asyncio.CancelledError:
                        await self._leave(websocket)
                        raise
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed, Lost) as exc:
                self.say(f"notifier connection lost ({exc}); again in {self.delay:g}s")
            self.subscription_id = None
            await asyncio.sleep(self.delay)
            self.delay = min(self.delay * 2, MAX_DELAY)

    async def _serve(self, websocket: ClientConnection) -> None:
        """Subscribe, then answer what the notifier sends; renew the subscription when
        it is due, and give up on a subscribe left unanswered."""
        await self._subscribe(websocket)
        while True:
            try:
                async with asyncio.timeout_at(self.due):
                    raw = await websocket.recv(decode=False)
            except TimeoutError:
                if self.pending is not None:
                    raise Lost("no answer to subscribe") from None
                await self._subscribe(websocket)
                continue
            message = _json(raw)
            if isinstance(message.get("event"), dict):
                await self._answer(websocket, raw, message["event"])
            elif isinstance(message.get("subscribeResponse"), dict):
                self._subscribed(message["subscribeResponse"])
            elif isinstance(message.get("terminate"), dict):
                await _send(websocket, {"terminateResponse": _terminated(message["terminate"])})
                raise Lost("the notifier ended the subscription")

    async def _subscribe(self, websocket: ClientConnection) -> None:
        """A new subscription to new incidents' EIDOs, or the renewal of the current one
        (which names it and, per STA-024, nothing else but the period)."""
        self.pending = str(uuid.uuid4())
        if self.subscription_id is None:
            request = {
                "requestId": self.pending,
                "requestType": "EIDO",
                "requestSubType": "new",
                "requestAccepts": ACCEPTS,
                "expires": EXPIRES,
            }
        else:
            request = {
                "requestId": self.pending,
                "subscriptionId": self.subscription_id,
                "expires": EXPIRES,
            }
        await _send(websocket, {"subscribe": request})
        self.due = asyncio.get_running_loop().time() + ANSWER_WAIT

    def _subscribed(self, answer: dict) -> None:
        if answer.get("requestId") != self.pending:
            return
        status, text = answer.get("statusCode"), answer.get("statusText")
        if status != 200:
            if self.subscription_id is None and isinstance(status, int) and status < 500:
                raise Refused(f"the notifier refused the subscription: {status} {text}")
            raise Lost(f"subscribe answered {status} {text}")
        if self.subscription_id is None:
            self.say(f"subscribed to {self.notifier_url}")
        self.subscription_id = answer.get("subscriptionId") or self.subscription_id
        self.pending = None
        self.delay = FIRST_DELAY
        expires = answer.get("expires")
        renew = expires * RENEW_AT if isinstance(expires, int) and expires > 0 else None
        self.due = None if renew is None else asyncio.get_running_loop().time() + renew

    async def _answer(self, websocket: ClientConnection, raw: bytes, event: dict) -> None:
        """Report the notification to Peerline (off the event loop, so pings go on) and
        answer with Peerline's verdict; an event without a transaction id cannot be
        answered, so it is not reported either."""
        transaction = event.get("transactionId")
        if not isinstance(transaction, str):
            self.say("ignored an event without a transactionId")
            return
        status, line = await asyncio.to_thread(post_event, self.incidents_url, self.token(), raw)
        self.say(line)
        code = event_status(status)
        answer = {"transactionId": transaction, "statusCode": code}
        await _send(websocket, {"eventResponse": answer | {"statusText": HTTPStatus(code).phrase}})

    async def _leave(self, websocket: ClientConnection) -> None:
        """Unsubscribe, so the notifier stops queueing for us, then close normally (the
        connection would otherwise close as an internal error, being left by a cancel)."""
        if self.subscription_id is not None:
            await self._unsubscribe(websocket)
        await websocket.close()

    async def _unsubscribe(self, websocket: ClientConnection) -> None:
        request = {"requestId": str(uuid.uuid4()), "subscriptionId": self.subscription_id}
        try:
            async with asyncio.timeout(UNSUBSCRIBE_WAIT):
                await _send(websocket, {"unsubscribe": request})
                answered = False
                while not answered:
                    answered = "unsubscribeResponse" in _json(await websocket.recv(decode=False))
            self.say("unsubscribed")
        except (TimeoutError, ConnectionClosed):
            self.say("stopped without an answer to unsubscribe")


async def subscribe(
    notifier_url: str,
    tls: ssl.SSLContext | None,
    incidents_url: str,
    token: Callable[[], str],
    say: Callable[[str], None],
) -> None:
    """Follow the notifier until cancelled (Ctrl-C), or until it refuses to subscribe us."""
    await Subscriber(notifier_url, tls, incidents_url, token, say).run()


async def _send(websocket: ClientConnection, message: dict) -> None:
    await websocket.send(json.dumps(message))


def _json(raw: bytes) -> dict:
    """A message as JSON; anything else (not STA-024) reads as an empty object."""
    try:
        message = json.loads(raw)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


def _terminated(request: dict) -> dict:
    return {
        "requestId": request.get("requestId"),
        "subscriptionId": request.get("subscriptionId"),
        "statusCode": 200,
        "statusText": "OK",
    }
