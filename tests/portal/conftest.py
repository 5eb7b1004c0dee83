"""The portal over real HTTP, on its own session database (SQLite, and PostgreSQL when
configured). The services it calls are started by the tests that need them; the browser
tests share one whole stack per worker and one chromium per module
(tests/support/browser.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from services.portal.app import create_app
from shared.settings import Settings
from tests.support.browser import Stack, launch_chromium, phone_page, running_stack
from tests.support.portal import portal_settings
from tests.support.server import ThreadedServer


@pytest.fixture
def serve_portal() -> Iterator[Callable[[Settings], ThreadedServer]]:
    running: list[ThreadedServer] = []

    def serve(settings: Settings) -> ThreadedServer:
        server = ThreadedServer(create_app(settings)).start()
        running.append(server)
        return server

    yield serve
    for server in running:
        server.stop()


@pytest.fixture
def portal(serve_portal, tmp_path, database_url) -> ThreadedServer:
    return serve_portal(portal_settings(tmp_path, database_url))


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """`peerline up` with a real SMTP relay, for every browser test of this worker: each
    test makes its own agency, so none sees another's people or notifications."""
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = phone_page(browser)
    yield page
    page.context.close()
