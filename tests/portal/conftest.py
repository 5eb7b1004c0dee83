"""The portal over real HTTP, on its own session database (SQLite, and PostgreSQL when
configured). The services it calls are started by the tests that need them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from services.portal.app import create_app
from shared.settings import Settings
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
