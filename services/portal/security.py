"""Headers every portal answer carries, and the time it took.

- A strict Content-Security-Policy: scripts, styles, images and forms from the portal
  itself only, nothing inline, no framing. A page that slipped user input through
  unescaped still could not run it.
- `Cache-Control: no-store` on every page: they may show personal data, and a shared
  phone's browser must not keep them. Only `/static/` files may be cached.
- `Referrer-Policy: same-origin`: no address of the portal reaches another site, and
  browsers still send the `Origin` of its own forms, which `web.form_of` checks
  (`no-referrer` would make them send `Origin: null`).
- `Server-Timing`: the portal's own time (`app`) apart from the time it waited on the
  services (`services`), which `bench/portal.py` reads.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .backend import waited

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; manifest-src 'self'"
)
COMMON = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        token = waited.set(0.0)
        cacheable = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not cacheable:
                    headers = [h for h in headers if h[0] != b"cache-control"] + [NO_STORE]
                headers += COMMON
                services = waited.get()
                own = time.perf_counter() - started - services
                timing = f"app;dur={own * 1000:.2f}, services;dur={services * 1000:.2f}"
                headers.append((b"server-timing", timing.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            waited.reset(token)
