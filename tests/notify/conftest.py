"""What notify talks to, for real: an SMTP server (aiosmtpd), a webhook receiver that
can be told to fail, and the roster service on its own database. The notify service
itself runs on `database_url` (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.roster.app import create_app as create_roster_app
from tests.support.running import RunningService, roster_settings, serve_app


@dataclass
class Webhook:
    """A JSON webhook receiver; `failures` answers that many posts with 500 first, and
    `redirect_to` answers every post with a 307 to that URL instead."""

    port: int = 0
    failures: int = 0
    redirect_to: str | None = None
    redirected: int = 0
    received: list[dict] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)  # when each failure was answered
    raw: list[bytes] = field(default_factory=list)

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"


@contextlib.contextmanager
def serving_webhook() -> Iterator[Webhook]:
    """A `Webhook` listening on loopback until the block ends."""
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            import time

            body = self.rfile.read(int(self.headers["Content-Length"]))
            if hook.redirect_to is not None:
                hook.redirected += 1
                self.send_response(307)
                self.send_header("Location", hook.redirect_to)
            elif hook.failures > 0:
                hook.failures -= 1
                hook.refused.append(time.monotonic())
                self.send_response(500)
            else:
                hook.raw.append(body)
                hook.received.append(json.loads(body))
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield hook
    server.shutdown()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with serving_webhook() as hook:
        yield hook


@pytest.fixture
def roster(nats_url, tmp_path) -> Iterator[RunningService]:
    """The real roster, on a SQLite file of its own: the database under test is notify's."""
    spans = InMemorySpanExporter()
    database = f"sqlite+aiosqlite:///{tmp_path / 'roster.db'}"
    settings = roster_settings(nats_url, database, tmp_path / "roster")
    yield from serve_app(create_roster_app(settings, exporter=spans), spans, nats_url)
