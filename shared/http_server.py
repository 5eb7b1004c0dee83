"""How a service process serves HTTP: uvicorn's options in one place, from `Settings`,
and the limits on request heads that uvicorn lacks.

uvicorn closes a keep-alive connection `timeout_keep_alive` seconds after a response,
but nothing bounds the time before a request's head is complete: a connection that
sends nothing, or a head a byte at a time, is held for ever. Its httptools parser also
accepts a head of any size (h11 stops at 16 KiB, but has no deadline either). The ASGI
app only runs once a head is complete, so `GuardedHttpProtocol` adds both limits at
the protocol: a head must be complete `header_timeout` seconds after the connection
opened or the request's first byte arrived, and may not exceed `max_header_bytes`,
counted both over the reads of an unfinished head and over the parts the parser hands
over (the URL, each header), so a head that arrives in one read is held to it too.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.importer import import_from_string
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from shared import logging as peerline_logging
from shared.problems import problem_response
from shared.settings import Settings


class HeadTooLarge(Exception):
    """Raised from a parser callback to stop reading a head past the limit."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline and a size limit on request heads."""

    def __init__(
        self,
        *args: Any,
        header_timeout: float,
        max_header_bytes: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.max_header_bytes = max_header_bytes
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_begun = False
        self._head_bytes = 0
        self._head_parsed = 0

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        timer = self._head_timer
        super().data_received(data)
        # Count reads that leave a head unfinished; the read that starts a head on a
        # kept-alive connection (it may end the previous body) is not counted, so a
        # head can pass the limit by one read at most.
        if timer is not None and self._head_timer is timer:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._too_large()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_begun = True
        self._head_parsed = 0
        if self._head_timer is None:
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        self._parsed(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._parsed(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _parsed(self, size: int) -> None:
        """Count a part of the head; past the limit, answer 431 and stop the parser (its
        error makes uvicorn answer 400, which `send_400_response` then leaves out)."""
        self._head_parsed += size
        if self._head_parsed > self.max_header_bytes:
            self._too_large()
            raise HeadTooLarge

    def send_400_response(self, msg: str) -> None:
        if not self.transport.is_closing():  # not after our own answer
            super().send_400_response(msg)

    def _too_large(self) -> None:
        detail = f"The request head may not exceed {self.max_header_bytes} bytes."
        self._cut_off(431, "Request Header Fields Too Large", detail)

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        super().on_headers_complete()

    def _arm_head_timer(self) -> None:
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self._head_begun = False

    def _head_timed_out(self) -> None:
        self._head_timer = None
        detail = f"The request head did not arrive within {self.header_timeout:g} seconds."
        self._cut_off(408, "Request Timeout", detail)

    def _cut_off(self, status: int, title: str, detail: str) -> None:
        """Answer with a problem, if a head has begun and no response is under way on
        this connection (a pipelined request's), then close the connection."""
        idle = self.cycle is None or self.cycle.response_complete
        if self._head_begun and idle and not self.transport.is_closing():
            response = problem_response(status, title, detail)
            head = b"".join(name + b": " + value + b"\r\n" for name, value in response.raw_headers)
            self.transport.write(STATUS_LINE[status] + head + b"connection: close\r\n\r\n")
            self.transport.write(response.body)
        self._disarm_head_timer()
        self.transport.close()


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for a service process, from its settings, for `uvicorn.run` or
    `uvicorn.Config` beside the app. Logging is the caller's: a service passes
    `shared.logging.config()`, tests keep uvicorn's."""
    return {
        "host": settings.host,
        "port": settings.resolved_port(),
        # uvicorn calls this as it would the protocol class.
        "http": functools.partial(
            GuardedHttpProtocol,
            header_timeout=settings.header_timeout,
            max_header_bytes=settings.max_header_bytes,
        ),
        "timeout_keep_alive": settings.keep_alive_timeout,  # typed int; any seconds work
        "ws": "none",  # no service speaks WebSocket; an upgrade never reaches the guard
        "access_log": False,  # paths can name people; requests are traced, scrubbed
    }


def require(settings: Settings, key: Callable[[], str]) -> None:
    """Stop at once, saying why, if `key` (a `Settings` method returning a secret the
    service cannot work without) finds none: better than failing on the first request."""
    try:
        key()
    except RuntimeError as exc:
        raise SystemExit(f"{settings.service}: {exc}") from None


def serve(settings: Settings, app_factory: str) -> None:
    """Serve a service until it is stopped: one process, or `settings.workers` processes
    that each build the app from `app_factory` ("module:function", called with no
    arguments, so each reads the same `PEERLINE_*` environment). Workers are replicas
    on one machine: they share the database and the durable consumers, and each uses
    a core."""
    os.umask(0o077)  # the service's files (a SQLite database, say) are its owner's alone
    options = {**server_options(settings), "log_config": peerline_logging.config()}
    if settings.workers > 1:
        uvicorn.run(app_factory, factory=True, workers=settings.workers, **options)
    else:
        uvicorn.run(import_from_string(app_factory)(), **options)
