"""Refuse hostile HTTP requests before their bodies cost anything, in every service.

FastAPI reads and parses the whole body before it resolves a route's dependencies, so
without this a caller with no token could make a service hold and parse any body it
sends. `HttpGuard` is a pure ASGI middleware: it sees a request as soon as its head is
parsed, and in this order

1. answers 401 (the document `shared.auth.current_principal` gives) to a request
   without an `Authorization: Bearer` header, unless its path is on the anonymous
   allow-list. It only checks that a token is there: the route's dependency verifies
   it, once. The portal, whose people sign in with a session cookie instead, turns
   this step off (`bearer_required=False`);
2. answers 413 to a `Content-Length` above `max_body_bytes`, or above the path's own
   limit in `body_limits` (a route that takes files);
3. reads the body itself against a count and one deadline for the whole body: 413 as
   soon as the count passes the limit (chunked bodies declare no length), 408 when the
   deadline passes. The app gets the body replayed from memory, so a route never sees
   part of a body and no refusal has to travel through the app as an error.

A refusal closes the connection, so the rest of a refused body is never read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import TOKEN_REQUIRED, bearer_token
from shared.problems import problem_response


class _TooLarge(Exception):
    """The body passed `max_body_bytes` while it was being read."""


class HttpGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        anonymous_paths: Iterable[str],
        max_body_bytes: int,
        body_timeout: float,
        body_limits: Mapping[str, int] | None = None,
        bearer_required: bool = True,
    ) -> None:
        self.app = app
        self.bearer_required = bearer_required
        self.anonymous_paths = frozenset(anonymous_paths)
        self.max_body_bytes = max_body_bytes
        self.body_limits = dict(body_limits or {})
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        # The path the router matches; a path outside `root_path` is never anonymous.
        path = scope["path"].removeprefix(scope.get("root_path", ""))
        if (
            self.bearer_required
            and path not in self.anonymous_paths
            and not bearer_token(headers.get("authorization", ""))
        ):
            await _refuse(scope, receive, send, 401, "Unauthorized", TOKEN_REQUIRED)
            return
        limit = self.body_limits.get(path, self.max_body_bytes)
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await self._too_large(scope, receive, send, limit)
            return
        try:
            body = await self._read_body(receive, limit)
        except _TooLarge:
            await self._too_large(scope, receive, send, limit)
            return
        except TimeoutError:
            detail = f"The body did not arrive within {self.body_timeout:g} seconds."
            await _refuse(scope, receive, send, 408, "Request Timeout", detail)
            return
        if body is not None:  # None: the client has gone
            await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, receive: Receive, limit: int) -> bytes | None:
        """The whole body, or None if the client disconnected. Holds at most `limit`
        bytes (and the message that passes it)."""
        chunks: list[bytes] = []
        size = 0
        async with asyncio.timeout(self.body_timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise _TooLarge
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        detail = f"The body may not exceed {limit} bytes."
        await _refuse(scope, receive, send, 413, "Content Too Large", detail)


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, title: str, detail: str
) -> None:
    response = problem_response(status, title, detail)
    response.headers["Connection"] = "close"
    await response(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the app the body already read, then the client's events."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay
