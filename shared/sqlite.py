"""An asyncio face for `sqlite3` that runs statements on the event loop's own thread.

SQLAlchemy's `sqlite+aiosqlite` dialect awaits its driver at every step of a statement
(cursor, execute, fetch, close). `aiosqlite` answers each step from a thread of its own:
three or four thread hops per statement, each costing far more than the statement (a
single-row statement takes microseconds in `sqlite3`; `bench/sqlite_statements.py`).
This `Connection` answers the same calls, with the same `sqlite3` exceptions (which the
dialect maps to `sqlalchemy.exc`), inline on the loop. What can take long runs on one
dedicated thread per engine instead, so the loop serves requests meanwhile:

- the COMMIT of a transaction that wrote: the fsync under WAL and `synchronous=FULL`;
- opening and closing (closing the last connection checkpoints the WAL);
- a statement SQLite refused with SQLITE_BUSY because another process holds the lock:
  inline statements never wait for a lock (the connection's busy timeout is 0), the
  statement is run again on the thread, waiting up to `busy_timeout` seconds there.

A statement that commits by itself (DDL outside a transaction, as in migrations at
start, or anything under the AUTOCOMMIT isolation level) syncs inline; the services'
writes are transactions, whose COMMIT goes to the thread. And a statement runs inline
however long it takes: one that touches many rows (a purge of a large table) holds the
loop for its whole duration, so such work is done in bounded chunks.

One connection is never used from two places at once, which is what makes this safe:
SQLAlchemy's pool lends a connection to one session at a time (the writer engine of
`shared.db` has exactly one, so writers queue for it in asyncio), a session is used by one
task at a time (as SQLAlchemy requires), and each call is awaited before the next, the
thread's included: a caller cancelled during a commit still waits for the thread to let
go. So the thread's COMMIT never overlaps a statement on the same connection. Different
connections are independent (the writer committing on its thread while readers read
inline), which SQLite allows unless built single-threaded; `connector` refuses that.

Hand it to SQLAlchemy as `create_async_engine("sqlite+aiosqlite:///<path>",
async_creator=connector(path))`: the dialect wraps a `Connection` as it would an
`aiosqlite.Connection`, and transactions keep `sqlite3`'s implicit BEGIN (deferred, before
the first INSERT/UPDATE/DELETE) that the dialect expects.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any


async def _settled(future: asyncio.Future) -> None:
    """Wait until `future` is done, however often the caller is cancelled meanwhile."""
    while not future.done():
        try:
            await asyncio.wait([future])
        except asyncio.CancelledError:
            continue


class Cursor:
    """The part of `aiosqlite.Cursor` SQLAlchemy's adapter awaits, answered inline."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._cursor = connection._conn.cursor()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        await self._connection._run(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Sequence[Any]) -> Cursor:
        await self._connection._run(self._cursor.executemany, sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _Now:
    """`aiosqlite`'s request queue as SQLAlchemy's adapter uses it (to set
    `isolation_level` on `Connection._conn`): the request runs at once, inline."""

    @staticmethod
    def put_nowait(request: tuple[asyncio.Future, Callable[[], Any]]) -> None:
        future, function = request
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class Connection:
    """The part of `aiosqlite.Connection` SQLAlchemy's adapter uses, on a `sqlite3`
    connection opened with `check_same_thread=False` and no busy timeout.

    `thread` is a single-thread executor: commits, closing and statements waiting for
    another process's lock run there, in order, and never while the loop uses this
    connection (see the module docstring).
    """

    _tx = _Now()

    def __init__(self, conn: sqlite3.Connection, thread: Executor, busy_timeout: float) -> None:
        self._conn = conn
        self._thread = thread
        self._busy_ms = round(busy_timeout * 1000)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def cursor(self) -> Cursor:
        return Cursor(self)

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        return await (await self.cursor()).execute(sql, parameters)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        """Commit on the thread, where the fsync does not hold up the loop; a connection
        with nothing to commit (a read, or after a rollback) does not leave the loop."""
        if self._conn.in_transaction:
            await self._off_loop(self._conn.commit)

    async def rollback(self) -> None:
        """Inline: under WAL a rollback drops pages from memory and writes nothing."""
        self._conn.rollback()

    async def close(self) -> None:
        await self._off_loop(self._conn.close)

    def stop(self) -> None:
        """Close without waiting (the pool terminating a connection outside a greenlet,
        e.g. at garbage collection): on the thread, after any work it has for us."""
        try:
            self._thread.submit(self._conn.close)
        except RuntimeError:  # the thread is gone (interpreter exit), and its work with it
            self._conn.close()

    async def _run(self, statement: Callable[..., Any], *args: Any) -> Any:
        """Run a statement inline; if another process holds the lock, wait for it on the
        thread instead. Safe to repeat: a statement refused with SQLITE_BUSY did nothing."""
        try:
            return statement(*args)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
        return await self._off_loop(self._waiting, statement, args)

    def _waiting(self, statement: Callable[..., Any], args: tuple) -> Any:
        self._conn.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        try:
            return statement(*args)
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")

    async def _off_loop(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run `function` on the thread. A cancelled caller still waits for the thread to
        finish, so nothing else touches this connection while the thread has it."""
        future = asyncio.get_running_loop().run_in_executor(self._thread, function, *args)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await _settled(future)
            raise


def connector(path: str, *, busy_timeout: float = 30.0) -> Callable[[], Awaitable[Connection]]:
    """An `async_creator` for `create_async_engine`: connections to the database file at
    `path`, opened on one dedicated thread that also runs their commits."""
    if sqlite3.threadsafety == 0:
        raise RuntimeError("this SQLite library is built single-threaded")
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{Path(path).name}")
    open_ = partial(sqlite3.connect, path, timeout=0, check_same_thread=False)

    async def connect() -> Connection:
        conn = await asyncio.get_running_loop().run_in_executor(thread, open_)
        return Connection(conn, thread, busy_timeout)

    return connect
