"""Fixtures along the testing ladder: a real nats-server per test, SQLite always and
PostgreSQL when PEERLINE_TEST_POSTGRES_URL is set (CI sets it), services over real
HTTP."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import Iterator

import pytest

from peerline.natsd import NatsServer
from shared import ids
from shared.tokens import Role, issue_token
from tests.support import postgres

pytest_plugins = ["tests.support.mail", "tests.support.running", "tests.support.stack"]

JWT_SECRET = "test-secret-" + "x" * 32
# The id key of every service the tests run in this process (their settings read it from
# the environment), and of the ids the tests derive themselves.
ID_KEY = "test-id-key-" + "k" * 32
os.environ["PEERLINE_ID_KEY"] = ID_KEY
ids.use_key(lambda: ID_KEY)
GIVEN_POSTGRES_URL = os.environ.get("PEERLINE_TEST_POSTGRES_URL")

DATABASES = ["sqlite"] + (
    ["postgresql"] if GIVEN_POSTGRES_URL or postgres.container_possible() else []
)


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The PostgreSQL server the tests create their databases on: the one given, or a
    container of this process's own (tests/support/postgres.py)."""
    if GIVEN_POSTGRES_URL:
        yield GIVEN_POSTGRES_URL
        return
    server = postgres.PostgresContainer()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def nats_server(tmp_path) -> Iterator[NatsServer]:
    """A fresh nats-server per test: tests count what is in streams, and fault tests kill
    and restart it, so none shares a server (PEERLINE_TEST_NATS_URL is not used)."""
    server = NatsServer(tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    return nats_server.url


async def _create_pg_database(admin_url: str) -> str:
    import asyncpg

    name = f"peerline_test_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def _drop_pg_database(admin_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    name = asyncio.run(_create_pg_database(admin_url))
    base = admin_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(_drop_pg_database(admin_url, name))


@pytest.fixture
def agency() -> str:
    """A fresh agency id per test, so tests never see each other's events."""
    return "T" + uuid.uuid4().hex[:12].upper()


def token(agency: str, role: Role | str, sub: str | None = None) -> str:
    return issue_token(JWT_SECRET, agency=agency, role=role, sub=sub)


def bearer(agency: str, role: Role | str, sub: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(agency, role, sub)}"}
