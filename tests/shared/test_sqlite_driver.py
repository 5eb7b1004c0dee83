"""The SQLite driver (`shared.sqlite`) under SQLAlchemy's async API, on real files: what
services do through a session works as it did on aiosqlite, statements stay on the event
loop, commits and lock waits leave it, and readers never wait for the writer."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from shared import db, sqlite
from tests.support.migrations import head

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "incidents" / "migrations"

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(50)),
    Column("at", db.UtcDateTime()),
    Column("doc", JSON),
    Column("blob", LargeBinary),
)


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "driver.db"


@pytest.fixture
def url(path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def engine(url):
    engine = db.create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
async def reader(engine):
    reader = db.read_engine(engine)
    yield reader
    await reader.dispose()


@pytest.fixture
def sessions(engine):
    return db.sessionmaker(engine)


async def _sqlite3_of(session: AsyncSession) -> sqlite3.Connection:
    """The `sqlite3` connection under a session (where SQLAlchemy's adapter finds it)."""
    raw = await (await session.connection()).get_raw_connection()
    return raw.driver_connection._conn


async def _count(engine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(things))


def _stall_commits(conn: sqlite3.Connection, seconds: float) -> threading.Event:
    """Make every COMMIT on `conn` take `seconds` longer; the event is set when one starts."""
    committing = threading.Event()

    def trace(statement: str) -> None:
        if statement == "COMMIT":
            committing.set()
            time.sleep(seconds)

    conn.set_trace_callback(trace)
    return committing


async def _until(flag: threading.Event) -> None:
    async with asyncio.timeout(5):
        while not flag.is_set():
            await asyncio.sleep(0.001)


def _closed(conn: sqlite3.Connection) -> bool:
    try:
        conn.in_transaction  # noqa: B018  (raises once closed)
    except sqlite3.ProgrammingError:
        return True
    return False


async def test_the_connect_listener_sets_the_pragmas(engine):
    async with engine.connect() as conn:
        pragmas = {
            p: await conn.scalar(text(f"PRAGMA {p}"))
            for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "query_only")
        }
    # busy_timeout 0: inline statements never sleep in SQLite's busy handler
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,  # FULL
        "foreign_keys": 1,
        "busy_timeout": 0,
        "query_only": 0,
    }


async def test_rows_and_types_round_trip(sessions):
    at = datetime(2026, 11, 25, 22, 14, tzinfo=timezone(timedelta(hours=-6)))
    rows = [
        {"id": 1, "name": "Ünal", "at": at, "doc": {"a": [1, None, "x"]}, "blob": b"\x00\xff"},
        {"id": 2, "name": None, "at": None, "doc": None, "blob": None},
    ]
    async with sessions() as session, session.begin():
        await session.execute(insert(things), rows)
    async with sessions() as session:
        stored = (await session.execute(select(things).order_by(things.c.id))).all()
    assert stored[0] == (1, "Ünal", at, {"a": [1, None, "x"]}, b"\x00\xff")
    assert stored[0].at.tzinfo is UTC
    assert stored[1] == (2, None, None, None, None)


async def test_a_duplicate_primary_key_raises_integrity_error(sessions):
    async with sessions() as session, session.begin():
        await session.execute(insert(things).values(id=1, name="first"))
    async with sessions() as session:
        with pytest.raises(IntegrityError) as raised:
            await session.execute(insert(things).values(id=1, name="second"))
        assert isinstance(raised.value.orig, sqlite3.IntegrityError)
        await session.rollback()
        assert await session.scalar(select(things.c.name)) == "first"


async def test_a_rollback_undoes_the_transaction(sessions, engine):
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            await session.execute(insert(things).values(id=1))
            raise RuntimeError("the change failed")
    async with sessions() as session:
        await session.execute(insert(things).values(id=2))
        await session.rollback()
    async with sessions() as session:
        await session.execute(insert(things).values(id=3))  # rolled back as it closes,
    async with sessions() as session, session.begin():  # which freed the write lock
        await session.execute(insert(things).values(id=4))
    async with engine.connect() as conn:
        assert (await conn.scalars(select(things.c.id))).all() == [4]


async def test_on_conflict_do_nothing_returning_single_and_multi_row(sessions):
    def upsert():
        return sqlite_insert(things).on_conflict_do_nothing(index_elements=["id"])

    async with sessions() as session, session.begin():
        one = upsert().values(id=1, name="a").returning(things.c.id)
        assert (await session.scalars(one)).all() == [1]
        assert (await session.scalars(one)).all() == []
        values = upsert().values([{"id": i} for i in (1, 2, 3)]).returning(things.c.id)
        assert sorted((await session.scalars(values)).all()) == [2, 3]
        many = upsert().returning(things.c.id)
        inserted = await session.scalars(many, [{"id": i} for i in (3, 4, 5)])
        assert sorted(inserted.all()) == [4, 5]


async def test_statements_run_on_the_loop_and_commits_on_the_dedicated_thread(sessions):
    seen: list[tuple[str, threading.Thread]] = []
    async with sessions() as session:
        conn = await _sqlite3_of(session)
        conn.set_trace_callback(lambda sql: seen.append((sql, threading.current_thread())))
        await session.execute(insert(things).values(id=1))
        await session.commit()
        conn.set_trace_callback(None)
    where = {sql.split()[0]: thread for sql, thread in seen}
    assert where["INSERT"] is threading.current_thread()
    assert where["COMMIT"] is not threading.current_thread()
    assert where["COMMIT"].name.startswith("sqlite-driver.db")


async def test_a_reader_does_not_wait_for_an_open_write_transaction(sessions, reader):
    async with sessions() as session:
        await session.execute(insert(things).values(id=1))  # holds SQLite's write lock
        started = time.perf_counter()
        assert await _count(reader) == 0  # the last committed state
        assert time.perf_counter() - started < 0.5
        await session.commit()
    assert await _count(reader) == 1


async def test_readers_read_while_the_writer_commits_on_its_thread(sessions, reader):
    async with sessions() as session:
        committing = _stall_commits(await _sqlite3_of(session), 0.3)
        await session.execute(insert(things).values(id=1))
        commit = asyncio.create_task(session.commit())
        await _until(committing)
        started = time.perf_counter()
        counts = [await _count(reader) for _ in range(20)]
        assert time.perf_counter() - started < 0.2
        assert not commit.done()
        await commit
        (await _sqlite3_of(session)).set_trace_callback(None)
    assert set(counts) <= {0, 1}
    assert await _count(reader) == 1


async def test_many_writers_and_readers_interleave(sessions, reader, engine):
    async def write(i: int) -> None:
        async with sessions() as session:
            await session.execute(insert(things).values(id=i, doc={"i": i}))
            await session.commit()

    async def read(writing: asyncio.Future) -> list[int]:
        seen = []
        while not writing.done():
            seen.append(await _count(reader))
            await asyncio.sleep(0)
        return seen

    writing = asyncio.gather(*(write(i) for i in range(100)))
    *_, readings = await asyncio.gather(writing, asyncio.gather(*(read(writing) for _ in range(4))))
    for seen in readings:
        assert seen == sorted(seen)  # each reader sees commits in order, never a partial one
    assert await _count(engine) == 100


async def test_a_caller_cancelled_during_commit_leaves_the_connection_usable(sessions, engine):
    async with sessions() as session:  # the engine's one connection, lent to every session
        committing = _stall_commits(await _sqlite3_of(session), 0.2)

    async def write_one() -> None:
        async with sessions() as session:
            await session.execute(insert(things).values(id=1))
            await session.commit()

    task = asyncio.create_task(write_one())
    await _until(committing)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with sessions() as session:
        (await _sqlite3_of(session)).set_trace_callback(None)
        await session.execute(insert(things).values(id=2))
        await session.commit()
    assert await _count(engine) == 2  # the cancelled commit finished on the thread


async def test_the_read_engine_refuses_writes(reader):
    async with reader.connect() as conn:
        with pytest.raises(OperationalError, match="readonly"):
            await conn.execute(insert(things).values(id=1))


async def test_run_sync_runs_statements_as_alembic_does(engine):
    def work(sync_conn) -> list[str]:
        sync_conn.execute(insert(things).values(id=7, name="sync"))
        return inspect(sync_conn).get_table_names()

    async with engine.begin() as conn:
        assert await conn.run_sync(work) == ["things"]
    async with engine.connect() as conn:
        assert await conn.scalar(select(things.c.name)) == "sync"


async def test_the_incidents_migrations_apply(url):
    engine = db.create_engine(url)
    try:
        await db.migrate(engine, MIGRATIONS)
        await db.migrate(engine, MIGRATIONS)  # at head: nothing to do
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            expected = {
                "incidents",
                "source_types",
                "eido_settings",
                "outbox",
                "inbox",
                "audit_log",
            }
            assert expected <= tables
            assert await conn.scalar(text("SELECT version_num FROM alembic_version")) == head(
                MIGRATIONS
            )
    finally:
        await engine.dispose()


async def test_a_lock_held_by_another_process_is_waited_for_off_the_loop(sessions, path, engine):
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(0.3, holder.rollback)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    async with sessions() as session, session.begin():
        await session.execute(insert(things).values(id=1))
    waited = time.perf_counter() - started
    ticker.cancel()
    holder.close()
    assert waited >= 0.25
    assert ticks >= 10  # the loop kept running while the statement waited
    assert await _count(engine) == 1


async def test_a_lock_wait_gives_up_after_the_busy_timeout(path, url, engine):
    impatient = create_async_engine(
        url, async_creator=sqlite.connector(str(path), busy_timeout=0.2)
    )
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.perf_counter()
        async with impatient.begin() as conn:
            with pytest.raises(OperationalError, match="locked"):
                await conn.execute(insert(things).values(id=1))
        assert time.perf_counter() - started >= 0.2
    finally:
        holder.close()
        await impatient.dispose()


async def test_autocommit_isolation_level_commits_each_statement(engine, reader, sessions):
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(insert(things).values(id=1))
        assert await _count(reader) == 1
    async with sessions() as session:  # the level was reset when the connection returned
        await session.execute(insert(things).values(id=2))
        await session.rollback()
    assert await _count(reader) == 1


async def test_dispose_closes_and_invalidate_terminates(engine):
    async with engine.connect() as conn:
        first = (await conn.get_raw_connection()).driver_connection._conn
        await conn.invalidate()
    assert _closed(first)
    async with engine.connect() as conn:
        second = (await conn.get_raw_connection()).driver_connection._conn
        assert await conn.scalar(select(func.count()).select_from(things)) == 0
    await engine.dispose()
    assert _closed(second)


async def test_stop_closes_after_the_thread_s_work(path):
    connection = await sqlite.connector(str(path))()
    connection.stop()
    async with asyncio.timeout(5):
        while not _closed(connection._conn):
            await asyncio.sleep(0.01)


async def test_a_cancelled_commit_returns_only_once_the_thread_is_done(path):
    connection = await sqlite.connector(str(path))()
    await connection.execute("CREATE TABLE t (x)")
    await connection.execute("INSERT INTO t VALUES (1)")
    committing = _stall_commits(connection._conn, 0.2)
    commit = asyncio.create_task(connection.commit())
    await _until(committing)
    commit.cancel()
    with pytest.raises(asyncio.CancelledError):
        await commit
    assert not connection._conn.in_transaction  # committed: nothing else can touch it now
    await connection.close()
