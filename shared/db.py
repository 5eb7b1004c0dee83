"""Database access: SQLAlchemy 2 async on SQLite (default) or PostgreSQL (by URL).

SQLite runs in WAL mode with `synchronous=FULL`: an acknowledged intake must survive a
power cut, and WAL lets readers proceed while the one writer commits. Each service has
its own database and its own Alembic migrations, applied at start. Engines hide bound
parameters from error messages, which would otherwise carry personnel ids into logs.

Two engines per database:

- `create_engine(url)` is the engine every write goes through. On a SQLite file it holds
  one connection, so this process's writers queue in asyncio instead of sleeping in
  SQLite's busy handler, driven by `shared.sqlite`: statements run inline on the event
  loop, commits (the fsync) and waits for a lock another process holds (up to 30 s) on
  a dedicated thread. On PostgreSQL: asyncpg with a pool.
- `read_engine(engine)` is the engine for reads that must not wait for the writer. On a
  SQLite file it is a second engine with `READERS` `query_only` connections, also
  inline: under WAL they read the last committed state while the writer's transaction
  is open or committing, and refuse to write. On PostgreSQL (whose pool already serves
  reads beside writes) and for in-memory SQLite (a second engine would be a second,
  empty database) it is `engine` itself. Dispose it as well as `engine`, when distinct.

In-memory SQLite and SQLite URLs carrying driver options keep the stock `aiosqlite`
driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, DateTime, MetaData, event, make_url, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

from shared import sqlite

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class KernelBase(DeclarativeBase):
    """The kernel's tables, in every service's database: the outbox, the inbox and the
    audit log. A service's own tables are on a declarative base of its own (`Base` in
    its `store.py`, made with `service_metadata()`), so their names need only be unique
    within the service, and its migrations compare exactly what it owns."""

    metadata = MetaData(naming_convention=NAMING)


def service_metadata() -> MetaData:
    """A service's own metadata, named like the kernel's."""
    return MetaData(naming_convention=NAMING)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


READERS = 4
_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON")


def _sqlite_file(url: str | URL) -> str | None:
    """The database file of a SQLite URL that `shared.sqlite` serves; None for anything
    else (PostgreSQL, in-memory SQLite, SQLite URLs carrying driver options)."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite" or url.query or url.database in (None, "", ":memory:"):
        return None
    return url.database


def _sqlite_engine(url: str | URL, path: str, *, pool_size: int, pragmas: tuple) -> AsyncEngine:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        async_creator=sqlite.connector(path),
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=60,
        hide_parameters=True,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        for pragma in pragmas:
            cur.execute(pragma)
        cur.close()

    return engine


def create_engine(url: str) -> AsyncEngine:
    """The engine every write goes through (see the module docstring)."""
    if path := _sqlite_file(url):
        return _sqlite_engine(url, path, pool_size=1, pragmas=_PRAGMAS)
    if is_sqlite(url):
        return create_async_engine(url, hide_parameters=True)
    return create_async_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True
    )


def read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine for reads beside `engine`, the writer (see the module docstring)."""
    if path := _sqlite_file(engine.url):
        pragmas = (*_PRAGMAS, "PRAGMA query_only=ON")
        return _sqlite_engine(engine.url, path, pool_size=READERS, pragmas=pragmas)
    return engine


def upsert_insert(session: AsyncSession):
    """`insert` with `on_conflict_do_nothing`/`on_conflict_do_update`, for the database
    `session` is bound to (SQLite and PostgreSQL spell the clause alike)."""
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


async def put_row(session: AsyncSession, model: type[T], key: dict, values: dict) -> tuple[T, bool]:
    """The row of `model` at primary `key` (a dict of its key columns, in order) holding
    `values`: created, changed, or left alone when it holds them already; and whether
    anything was written. The one way a per-agency setting (a policy, a mapping, the
    agency's settings) is put, so "nothing changed, nothing published" holds for all.
    It stamps `updated_at`, where the model has one, only on a change."""
    row = await session.get(model, tuple(key.values()))
    if row is not None and all(getattr(row, name) == value for name, value in values.items()):
        return row, False
    if row is None:
        row = model(**key)
        session.add(row)
    for name, value in values.items():
        setattr(row, name, value)
    if hasattr(model, "updated_at"):
        row.updated_at = datetime.now(UTC)
    return row, True


def sessionmaker(
    engine: AsyncEngine, after_commit: Callable[[Session], None] | None = None
) -> async_sessionmaker:
    """Sessions of `engine`; `after_commit(session)` runs after each of them commits
    (SQLAlchemy's event, on a session class of this maker's own, so that no other
    maker's sessions are touched)."""
    if after_commit is None:
        return async_sessionmaker(engine, expire_on_commit=False)
    own = type("Session", (Session,), {})
    event.listen(own, "after_commit", after_commit)
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=own)


async def ping(engine: AsyncEngine, timeout: float = 2.0) -> bool:
    try:
        async with asyncio.timeout(timeout):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


async def migrate(engine: AsyncEngine, script_location: Path) -> None:
    """Apply the service's Alembic migrations up to head on `engine`'s database.

    Replicas (and worker processes) start together: one migrates while the others wait
    for it and then find the database at head. PostgreSQL holds an advisory lock for
    the migration's transaction; a SQLite file, a lock on a file beside it.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location))

    def upgrade(sync_conn) -> None:
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, "head")

    async with _migration_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(upgrade)


MIGRATION_LOCK = 0x5045_4552  # any constant; each service has its own database


@contextlib.asynccontextmanager
async def _migration_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    path = _sqlite_file(engine.url)
    if path is None:
        yield
        return
    with open(f"{path}.migrate-lock", "w") as lock:
        await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def run_migrations_online(context, metadata: MetaData) -> None:
    """Body of every service's Alembic `env.py`: migrate on the connection handed in,
    to the kernel's tables and the service's own."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through shared.db.migrate (a service does at start)")
    context.configure(
        connection=connection,
        target_metadata=[KernelBase.metadata, metadata],
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
