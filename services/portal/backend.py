"""Calls to the other services' public HTTP APIs, as the signed-in person.

Each call carries a token the portal signs for that person alone (their agency, role
and id), valid for five minutes and reused for four: the services apply their own rules
to it exactly as to any caller, so the portal can show a person nothing the APIs would
not give them (decision 56). Time spent waiting on the services is added up per request, so a page
can report its own work apart from theirs (`Server-Timing`).
"""

from __future__ import annotations

import contextvars
import time
from datetime import timedelta
from typing import Any

import httpx
from opentelemetry import propagate

from shared.settings import Settings
from shared.tokens import issue_token

from .domain import Person

TOKEN_TTL = timedelta(minutes=5)
TOKEN_REUSE = timedelta(minutes=4)  # so a token always has a minute left when it is sent
TOKENS_KEPT = 4096  # people at once; past that, the kept tokens are dropped together
TIMEOUT = httpx.Timeout(10.0, connect=3.0)

# Seconds this request has spent waiting on the services.
waited: contextvars.ContextVar[float] = contextvars.ContextVar("waited", default=0.0)


class Refused(Exception):
    """A service answered 4xx: the person may not, or the input was wrong. `errors` are
    the problem document's `{loc, msg}` pairs, for forms to show beside their fields."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []


class Unavailable(Exception):
    """A service did not answer, or failed; the page says so and offers to try again."""

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


class Backend:
    def __init__(self, settings: Settings) -> None:
        self._secret = settings.signing_secret()
        self._issuer, self._audience = settings.jwt_issuer, settings.jwt_audience
        self.urls = {
            "incidents": settings.incidents_url,
            "roster": settings.roster_url,
            "checkins": settings.checkins_url,
            "notify": settings.notify_url,
            "metrics": settings.metrics_url,
        }
        self._client = httpx.AsyncClient(timeout=TIMEOUT, trust_env=False)
        self._tokens: dict[Person, tuple[str, float]] = {}

    async def close(self) -> None:
        await self._client.aclose()

    def token(self, person: Person | None) -> str | None:
        """The person's token: a new one every `TOKEN_REUSE`, the same in between, so
        the services verify it once and then know it (`bench/security.py`)."""
        if person is None:
            return None
        now = time.monotonic()
        kept = self._tokens.get(person)
        if kept is not None and now - kept[1] < TOKEN_REUSE.total_seconds():
            return kept[0]
        token = issue_token(
            self._secret,
            agency=person.agency,
            role=person.role,
            sub=person.subject,
            ttl=TOKEN_TTL,
            issuer=self._issuer,
            audience=self._audience,
        )
        if len(self._tokens) >= TOKENS_KEPT:
            self._tokens.clear()
        self._tokens[person] = (token, now)
        return token

    async def request(
        self,
        person: Person | None,
        service: str,
        method: str,
        path: str,
        **kwargs: Any,
    ) -> httpx.Response:
        """The service's answer to one call; `Refused` for a 4xx, `Unavailable` for
        anything else that is not a success."""
        headers = kwargs.pop("headers", {})
        token = self.token(person)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        propagate.inject(headers)  # the page's trace continues in the service
        started = time.perf_counter()
        try:
            response = await self._client.request(
                method, self.urls[service] + path, headers=headers, **kwargs
            )
        except httpx.HTTPError:
            raise Unavailable(service) from None
        finally:
            waited.set(waited.get() + time.perf_counter() - started)
        if response.is_success:
            return response
        if 400 <= response.status_code < 500:
            raise _refused(response)
        raise Unavailable(service)

    async def get(self, person: Person | None, service: str, path: str, **kwargs: Any) -> Any:
        return (await self.request(person, service, "GET", path, **kwargs)).json()

    async def send(
        self, person: Person | None, service: str, method: str, path: str, body: Any = None
    ) -> Any:
        response = await self.request(person, service, method, path, json=body)
        return response.json() if response.content else None


def _refused(response: httpx.Response) -> Refused:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    detail = problem.get("detail") if isinstance(problem.get("detail"), str) else ""
    errors = problem.get("errors") if isinstance(problem.get("errors"), list) else []
    return Refused(response.status_code, detail or response.reason_phrase, errors)
