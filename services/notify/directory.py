"""Recipients' contact details, looked up in the roster when a message is sent.

Contact details never travel on the bus and are never stored here: the delivery worker
asks the roster (`GET /v1/recipients/supporters/{id}`, `GET /v1/recipients/coordinators
?agency_id=`) with a short-lived service token (role `service`, `sub` `notify`, the
agency concerned), and keeps the answer in memory for `notify_directory_ttl` seconds so
a burst of messages to one recipient costs one look-up. The roster audits each one.
"""

from __future__ import annotations

import logging
import time
from datetime import time as clock_time
from datetime import timedelta
from typing import Protocol
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict

from shared.settings import Settings
from shared.tokens import Role, issue_token

from .domain import QuietHours, Recipient

TOKEN_TTL = timedelta(minutes=2)

# httpx logs every request's URL at INFO, and a look-up's URL names the recipient.
logging.getLogger("httpx").setLevel(logging.WARNING)
CACHE_SIZE = 10_000


class LookupFailed(Exception):
    """The roster could not answer now (unreachable, refused, erring): try later."""


class Directory(Protocol):
    async def supporter(self, agency_id: str, supporter_id: str) -> Recipient | None: ...

    async def coordinators(self, agency_id: str) -> list[Recipient]: ...


class _Contact(BaseModel):
    model_config = ConfigDict(extra="ignore")

    email: str | None = None
    phone: str | None = None
    url: str | None = None


class _QuietHours(BaseModel):
    model_config = ConfigDict(extra="ignore")

    start: clock_time
    end: clock_time


class _Recipient(BaseModel):
    """The roster's answer, as the recipients contract describes it."""

    model_config = ConfigDict(extra="ignore")

    recipient_id: str
    contact: _Contact = _Contact()
    timezone: str | None = None
    quiet_hours: _QuietHours | None = None

    def recipient(self) -> Recipient:
        quiet = self.quiet_hours
        return Recipient(
            recipient_id=self.recipient_id,
            email=self.contact.email,
            phone=self.contact.phone,
            url=self.contact.url,
            timezone=self.timezone or "UTC",
            quiet_hours=QuietHours(quiet.start, quiet.end) if quiet else None,
        )


class RosterDirectory:
    """The roster's recipients look-up over HTTP, with a short-lived cache. A worker of
    the runtime, so its connections close with the service."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._ttl = settings.notify_directory_ttl
        # Straight to the roster, whatever HTTP proxy the environment names.
        self._client = httpx.AsyncClient(base_url=settings.roster_url, timeout=5.0, trust_env=False)
        self._cache: dict[tuple[str, str, str], tuple[float, object]] = {}

    def start(self) -> None:
        pass

    async def stop(self) -> None:
        await self._client.aclose()

    async def supporter(self, agency_id: str, supporter_id: str) -> Recipient | None:
        found = await self._get(
            ("supporter", agency_id, supporter_id),
            agency_id,
            f"/v1/recipients/supporters/{quote(supporter_id, safe='')}",
        )
        return None if found is None else _Recipient.model_validate(found).recipient()

    async def coordinators(self, agency_id: str) -> list[Recipient]:
        found = await self._get(
            ("coordinators", agency_id, ""),
            agency_id,
            "/v1/recipients/coordinators",
            params={"agency_id": agency_id},
        )
        return [_Recipient.model_validate(one).recipient() for one in found or []]

    async def _get(
        self, key: tuple[str, str, str], agency_id: str, path: str, params: dict | None = None
    ) -> object:
        """The JSON answer (None when the roster knows no such recipient in the agency),
        from the cache while it is fresh."""
        cached = self._cache.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        token = issue_token(
            self._settings.signing_secret(),
            agency=agency_id,
            role=Role.SERVICE,
            sub="notify",
            ttl=TOKEN_TTL,
            issuer=self._settings.jwt_issuer,
            audience=self._settings.jwt_audience,
        )
        try:
            answer = await self._client.get(
                path, params=params, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as exc:
            raise LookupFailed(type(exc).__name__) from None
        if answer.status_code in (403, 404):  # not one of the agency's (or not at all)
            found = None
        elif answer.status_code == 200:
            found = answer.json()
        else:
            raise LookupFailed(f"roster answered {answer.status_code}")
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = (time.monotonic() + self._ttl, found)
        return found
