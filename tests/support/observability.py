"""The region's observability profile as an operator reads it (decision 78): traces
through Phoenix's own REST API and, as a picture, in its web UI in Debian's chromium;
the services' figures and the loaded alerts through Prometheus's HTTP API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
from playwright.sync_api import sync_playwright

from tests.support.browser import ARTIFACTS, launch_chromium

T = TypeVar("T")
PROJECT = "default"  # where Phoenix puts spans whose resource names no project


async def poll(
    read: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    timeout: float,
    what: str,
    every: float = 0.5,
) -> T:
    """`read()` every `every` seconds until `done` holds for what it returns; that value.
    On time-out, an AssertionError that shows the last one."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}; last: {value!r}"
        await asyncio.sleep(every)


class Phoenix:
    """Phoenix's REST API (`/v1`), as the viewer's own operators' scripts would use it."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client, self.url = client, url

    async def project_id(self, name: str = PROJECT) -> str | None:
        """The project's id (which the UI's addresses use), None before its first span."""
        answer = await self.client.get(f"{self.url}/v1/projects")
        answer.raise_for_status()
        return next((p["id"] for p in answer.json()["data"] if p["name"] == name), None)

    async def spans(self, trace_id: str | None = None) -> list[dict]:
        """Every span Phoenix holds in the project, or in one trace (its id in hex)."""
        found: list[dict] = []
        params: dict[str, object] = {"limit": 1000}
        if trace_id:
            params["trace_id"] = trace_id
        while True:
            answer = await self.client.get(f"{self.url}/v1/projects/{PROJECT}/spans", params=params)
            if answer.status_code == 404:  # no span has arrived yet
                return found
            answer.raise_for_status()
            body = answer.json()
            found += body["data"]
            if not body.get("next_cursor"):
                return found
            params["cursor"] = body["next_cursor"]


def screenshot_trace(url: str, project_id: str, trace_id: str, shown: list[str]) -> Path:
    """A screenshot of the trace open in Phoenix's UI, once every span name in `shown` is
    in its tree and the root span's attributes (its service's name among them) are
    beside it, kept among the test artifacts (`PEERLINE_TEST_ARTIFACTS`). Synchronous
    (Playwright's sync API): run it in a thread from an async test."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "compose-trace-in-phoenix.png"
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{url}/projects/{project_id}/traces/{trace_id}")
            for text in [*shown, "service.name"]:
                page.get_by_text(text, exact=True).first.wait_for(timeout=60_000)
            page.screenshot(path=path)
        finally:
            browser.close()
    return path


class Prometheus:
    """Prometheus's HTTP API (`/api/v1`)."""

    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client, self.url = client, url

    async def _get(self, path: str, **params: str) -> dict:
        answer = await self.client.get(f"{self.url}/api/v1/{path}", params=params)
        answer.raise_for_status()
        body = answer.json()
        assert body["status"] == "success", body
        return body["data"]

    async def query(self, expr: str) -> dict[tuple[tuple[str, str], ...], float]:
        """An instant query's vector: each series' labels (sorted pairs) and its value."""
        data = await self._get("query", query=expr)
        return {
            tuple(sorted(series["metric"].items())): float(series["value"][1])
            for series in data["result"]
        }

    async def rules(self) -> list[dict]:
        """Every rule loaded, from every group."""
        data = await self._get("rules")
        return [rule for group in data["groups"] for rule in group["rules"]]
