"""Hostile HTTP load on a real service: refused before the body is read, bounded in
size and in time. Raw sockets where a client library would hide what the server does
(it sends whole bodies, waits politely, and reconnects)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import Request
from starlette.datastructures import Headers

from services.incidents.app import MIGRATIONS, create_app
from services.incidents.domain import MAX_INVOLVED
from shared.auth import current_principal
from shared.problems import Problem
from shared.service import ANONYMOUS_PATHS, ServiceRuntime
from shared.settings import Settings
from shared.tokens import Role
from tests.conftest import bearer, token
from tests.support.running import incidents_settings
from tests.support.server import ThreadedServer
from tests.support.waiting import wait_until

HUGE = 150 * 1024 * 1024
STRICT = {
    "keep_alive_timeout": 0.3,
    "header_timeout": 0.5,
    "body_timeout": 0.5,
    "max_header_bytes": 4096,
}
# How often a slow client sends a little more: well inside the 0.5 s deadlines, and
# never at the moment they pass (bytes arriving after the server has closed would make
# its kernel reset the connection, and the client could lose the answer).
PACE = 0.2


def officers_report(count: int, *, id_length: int = 128) -> dict:
    """A report as large as they come: `count` officers with the longest personnel ids."""
    return {
        "external_id": "24-" + "9" * 125,
        "source_type": "SHOOT",
        "occurred_at": "2026-11-25T22:14:00-06:00",
        "involved": [
            {"personnel_id": f"{i:05d}".ljust(id_length, "X"), "role": "investigator"}
            for i in range(count)
        ],
    }


class Raw:
    """One HTTP/1.1 connection, written and read byte for byte."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, url: str) -> Raw:
        parts = urlsplit(url)
        return cls(*await asyncio.open_connection(parts.hostname, parts.port))

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def head(self, method: str, path: str, *, then: bytes = b"", **headers: str) -> None:
        """Send a request head, and `then` the first bytes of a body in the same write."""
        lines = [f"{method} {path} HTTP/1.1", "Host: peerline", *_header_lines(headers)]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + then)

    async def response(self, timeout: float = 2.0) -> tuple[int, Headers, bytes]:
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        fields = [line.split(":", 1) for line in lines if line]
        headers = Headers(raw=[(k.strip().lower().encode(), v.strip().encode()) for k, v in fields])
        body = await asyncio.wait_for(
            self.reader.readexactly(int(headers["content-length"])), timeout
        )
        return int(status_line.split()[1]), headers, body

    async def closed_within(self, timeout: float) -> bool:
        """Whether the server closes the connection within `timeout`, sending nothing."""
        try:
            return await asyncio.wait_for(self.reader.read(1), timeout) == b""
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.writer.close()


def _header_lines(headers: dict[str, str]) -> list[str]:
    return [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]


def _auth(agency: str, role: Role = Role.INGEST) -> str:
    return f"Bearer {token(agency, role)}"


async def _no_token_problem() -> dict:
    """The document `current_principal` answers a request without a token with."""
    request = Request({"type": "http", "method": "POST", "path": "/", "headers": []})
    with pytest.raises(Problem) as refused:
        await current_principal(request)
    problem = refused.value
    return {
        "type": "about:blank",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }


@pytest.fixture
def strict(nats_url, tmp_path) -> Iterator[str]:
    """The incidents service with short deadlines and a small head limit."""
    settings = incidents_settings(
        nats_url, f"sqlite+aiosqlite:///{tmp_path / 'strict.db'}", tmp_path / "data"
    ).model_copy(update=STRICT)
    server = ThreadedServer(create_app(settings)).start()
    wait_until(lambda: _ready(server.url), timeout=30, what="strict service ready")
    yield server.url
    server.stop()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_body_limit_is_a_few_times_the_largest_real_report():
    largest = len(json.dumps(officers_report(500), indent=2).encode())
    limit = Settings().max_body_bytes
    assert 3 * largest <= limit
    assert len(json.dumps(officers_report(MAX_INVOLVED), indent=2).encode()) < limit


async def test_a_huge_post_without_a_token_is_refused_before_its_body_is_read(incidents):
    conn = await Raw.open(incidents.url)
    try:
        started = time.monotonic()
        await conn.head(
            "POST",
            "/v1/incidents",
            then=b'{"external_id": ',  # and not one byte more
            content_type="application/json",
            content_length=str(HUGE),
        )
        status, headers, body = await conn.response()
        elapsed = time.monotonic() - started
        assert status == 401
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body) == await _no_token_problem()
        assert elapsed < 0.2, f"answered in {elapsed:.3f}s"
        assert await conn.closed_within(1.0)  # the rest is never read
    finally:
        conn.close()


async def test_an_oversized_body_with_a_token_is_refused_before_it_is_read(incidents, agency):
    conn = await Raw.open(incidents.url)
    try:
        started = time.monotonic()
        await conn.head(
            "POST",
            "/v1/incidents",
            authorization=_auth(agency),
            content_length=str(HUGE),
            expect="100-continue",  # the first answer is the refusal, not "send it"
        )
        status, headers, body = await conn.response()
        elapsed = time.monotonic() - started
        assert status == 413
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body)["detail"] == "The body may not exceed 1048576 bytes."
        assert elapsed < 0.2, f"answered in {elapsed:.3f}s"
        assert await conn.closed_within(1.0)
    finally:
        conn.close()


async def test_a_chunked_body_is_refused_once_it_passes_the_limit(incidents, agency):
    limit = Settings().max_body_bytes
    conn = await Raw.open(incidents.url)
    try:
        await conn.head(
            "POST", "/v1/incidents", authorization=_auth(agency), transfer_encoding="chunked"
        )
        piece = b"x" * 65536
        for _ in range(limit // len(piece)):
            await conn.send(b"%x\r\n%b\r\n" % (len(piece), piece))
        await conn.send(b"1\r\nx\r\n")  # one byte over; the body has not ended
        status, headers, body = await conn.response()
        assert status == 413
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body)["detail"] == f"The body may not exceed {limit} bytes."
        assert await conn.closed_within(1.0)
    finally:
        conn.close()


async def test_a_report_of_500_officers_with_long_ids_is_accepted(incidents, agency):
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            f"{incidents.url}/v1/incidents",
            json=officers_report(500),
            headers=bearer(agency, Role.INGEST),
            timeout=10,
        )
    assert answer.status_code == 202, answer.text


async def test_anonymous_paths_answer_without_a_token_and_others_do_not(incidents, agency):
    async with httpx.AsyncClient(base_url=incidents.url) as client:
        for path in sorted(ANONYMOUS_PATHS):
            assert (await client.get(path)).status_code == 200, path
        unknown = await client.get("/v1/nothing-here")
        forged = await client.post(
            "/v1/incidents", json=officers_report(1), headers={"Authorization": "Bearer x.y.z"}
        )
    assert unknown.status_code == 401
    assert unknown.json() == await _no_token_problem()
    # A bearer header goes on to the route, which verifies it.
    assert forged.status_code == 401
    assert forged.json()["detail"] == "The bearer token is invalid or expired."


async def test_a_service_names_its_own_anonymous_paths(nats_url, tmp_path):
    settings = incidents_settings(
        nats_url, f"sqlite+aiosqlite:///{tmp_path / 'f.db'}", tmp_path / "data"
    )
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS)
    app = runtime.create_app(title="t", description="d", anonymous_paths=["/v1/feedback"])

    @app.post("/v1/feedback", status_code=202)
    async def feedback(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    @app.post("/v1/other", status_code=202)
    async def other() -> None:
        return None

    server = ThreadedServer(app).start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            accepted = await client.post("/v1/feedback", json={"code": "K7Q2"})
            refused = await client.post("/v1/other", json={})
    finally:
        server.stop()
    assert accepted.status_code == 202
    assert accepted.json() == {"received": len(b'{"code":"K7Q2"}')}
    assert refused.status_code == 401


async def test_an_idle_keep_alive_connection_is_closed(strict):
    conn = await Raw.open(strict)
    try:
        await conn.head("GET", "/healthz")
        status, headers, _ = await conn.response()
        assert status == 200
        assert "connection" not in headers  # kept alive
        started = time.monotonic()
        assert await conn.closed_within(2.0)
        assert time.monotonic() - started >= 0.2  # by the keep-alive timer, not at once
    finally:
        conn.close()


async def test_a_connection_that_never_sends_a_request_is_closed(strict):
    conn = await Raw.open(strict)
    try:
        assert await conn.closed_within(2.0)
    finally:
        conn.close()


async def test_a_head_that_trickles_in_is_cut_off_with_408(strict):
    conn = await Raw.open(strict)
    try:
        started = time.monotonic()
        await conn.send(b"GET /healthz HTTP/1.1\r\nHost: peerline\r\n")
        while True:  # a header line at a time, paced by waiting for the answer
            await conn.send(b"X-Slow: 1\r\n")
            try:
                status, headers, body = await conn.response(timeout=PACE)
                break
            except TimeoutError:
                assert time.monotonic() - started < 3, "the head was never cut off"
        assert status == 408
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body)["status"] == 408
        assert await conn.closed_within(1.0)
    finally:
        conn.close()


async def test_a_head_over_the_limit_is_refused_with_431(strict):
    conn = await Raw.open(strict)
    try:
        await conn.send(b"GET /healthz HTTP/1.1\r\nX-Pad: " + b"a" * 8192)  # not yet ended
        status, headers, _ = await conn.response()
        assert status == 431
        assert headers["content-type"] == "application/problem+json"
        assert await conn.closed_within(1.0)
    finally:
        conn.close()


async def test_a_whole_head_over_the_limit_in_one_write_is_refused_with_431(strict, incidents):
    """However the bytes arrive: a complete head, in a single read, is held to the limit
    too: the small limit of `strict`, and a service's default of 32 KiB."""
    for url, pad in ((strict, 8192), (incidents.url, 100 * 1024)):
        conn = await Raw.open(url)
        try:
            await conn.head("GET", "/healthz", X_Pad="a" * pad)
            status, headers, body = await conn.response()
            assert status == 431, body
            assert headers["content-type"] == "application/problem+json"
            assert await conn.closed_within(1.0)
        finally:
            conn.close()
    long_url = await Raw.open(strict)
    try:
        await long_url.head("GET", "/healthz?" + "q" * 8192)
        assert (await long_url.response())[0] == 431
    finally:
        long_url.close()


async def test_a_body_that_trickles_in_gets_408_and_the_connection_is_closed(strict, agency):
    conn = await Raw.open(strict)
    try:
        await conn.head(
            "POST",
            "/v1/incidents",
            authorization=_auth(agency),
            content_type="application/json",
            content_length="1000",
        )
        started = time.monotonic()
        while True:  # 10 bytes at a time: never idle for long, always too slow
            await conn.send(b" " * 10)
            try:
                status, headers, body = await conn.response(timeout=PACE)
                break
            except TimeoutError:
                assert time.monotonic() - started < 3, "the body was never cut off"
        assert status == 408
        assert headers["content-type"] == "application/problem+json"
        assert json.loads(body)["detail"] == "The body did not arrive within 0.5 seconds."
        assert await conn.closed_within(1.0)
    finally:
        conn.close()
