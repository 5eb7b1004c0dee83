"""SQLite statement benchmark: the cost of one statement through SQLAlchemy's async API.

Prints, measured in the same run on the same machine, on files in WAL mode with
`synchronous=FULL`:
- µs per single-row INSERT and per SELECT by primary key, inside one transaction,
  through an `AsyncSession` on Peerline's engine (`shared.db.create_engine`: statements
  inline on the loop, commits on a thread) beside the same on the stock `aiosqlite`
  driver (a thread hop per driver call), and two floors: a synchronous SQLAlchemy
  `Session` on `sqlite3` (what SQLAlchemy itself costs) and the `sqlite3` module alone;
- transactions/s for one INSERT and its COMMIT (an fsync), one after another, for the
  same four.

Each figure is the median of --rounds rounds, the four taking turns within a round.

    python bench/sqlite_statements.py [--statements 2000] [--transactions 300] [--rounds 3]
                                      [--dir DIR]

Put --dir on the disk the service uses: the transactions are bound by its fsync.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared import db  # noqa: E402

PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON")
WARMUP = 50
metadata = MetaData()
rows = Table("rows", metadata, Column("k", Integer, primary_key=True), Column("v", String(40)))
VALUE = "x" * 40


def _figures(n: int, transactions: int, marks: tuple[float, float, float, float]) -> dict:
    started, inserted, selected, committed = marks
    return {
        "insert_us": (inserted - started) / n * 1e6,
        "select_us": (selected - inserted) / n * 1e6,
        "tx_s": transactions / (committed - selected),
    }


def measure_sqlite3(path: Path, n: int, transactions: int) -> dict:
    conn = sqlite3.connect(path)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    conn.execute("CREATE TABLE rows (k INTEGER PRIMARY KEY, v VARCHAR(40))")
    ins, sel = "INSERT INTO rows (k, v) VALUES (?, ?)", "SELECT v FROM rows WHERE k = ?"
    for k in range(-WARMUP, 0):
        conn.execute(ins, (k, VALUE))
        conn.execute(sel, (k,)).fetchall()
    started = time.perf_counter()
    for k in range(n):
        conn.execute(ins, (k, VALUE))
    inserted = time.perf_counter()
    for k in range(n):
        conn.execute(sel, (k,)).fetchall()
    selected = time.perf_counter()
    conn.commit()
    for k in range(n, n + transactions):
        conn.execute(ins, (k, VALUE))
        conn.commit()
    committed = time.perf_counter()
    conn.close()
    return _figures(n, transactions, (started, inserted, selected, committed))


def _with_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        for pragma in PRAGMAS:
            cur.execute(pragma)
        cur.close()


def measure_sync_session(path: Path, n: int, transactions: int) -> dict:
    engine = create_engine(f"sqlite:///{path}", pool_size=1, max_overflow=0)
    _with_pragmas(engine)
    metadata.create_all(engine)
    with Session(engine) as session:
        for k in range(-WARMUP, 0):
            session.execute(insert(rows).values(k=k, v=VALUE))
            session.scalar(select(rows.c.v).where(rows.c.k == k))
        started = time.perf_counter()
        for k in range(n):
            session.execute(insert(rows).values(k=k, v=VALUE))
        inserted = time.perf_counter()
        for k in range(n):
            session.scalar(select(rows.c.v).where(rows.c.k == k))
        selected = time.perf_counter()
        session.commit()
    for k in range(n, n + transactions):
        with Session(engine) as session:
            session.execute(insert(rows).values(k=k, v=VALUE))
            session.commit()
    committed = time.perf_counter()
    engine.dispose()
    return _figures(n, transactions, (started, inserted, selected, committed))


def aiosqlite_engine(path: Path) -> AsyncEngine:
    """The engine SQLite had before `shared.sqlite`: aiosqlite, one connection."""
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{path}", pool_size=1, max_overflow=0, hide_parameters=True
    )
    _with_pragmas(engine.sync_engine)
    return engine


def peerline_engine(path: Path) -> AsyncEngine:
    return db.create_engine(f"sqlite+aiosqlite:///{path}")


async def measure_async_session(engine: AsyncEngine, n: int, transactions: int) -> dict:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    sessions = db.sessionmaker(engine)
    async with sessions() as session:
        for k in range(-WARMUP, 0):
            await session.execute(insert(rows).values(k=k, v=VALUE))
            await session.scalar(select(rows.c.v).where(rows.c.k == k))
        started = time.perf_counter()
        for k in range(n):
            await session.execute(insert(rows).values(k=k, v=VALUE))
        inserted = time.perf_counter()
        for k in range(n):
            await session.scalar(select(rows.c.v).where(rows.c.k == k))
        selected = time.perf_counter()
        await session.commit()
    for k in range(n, n + transactions):
        async with sessions() as session:
            await session.execute(insert(rows).values(k=k, v=VALUE))
            await session.commit()
    committed = time.perf_counter()
    await engine.dispose()
    return _figures(n, transactions, (started, inserted, selected, committed))


def measure(name: str, path: Path, n: int, transactions: int) -> dict:
    if name == "sqlite3":
        return measure_sqlite3(path, n, transactions)
    if name == "SQLAlchemy":
        return measure_sync_session(path, n, transactions)
    engine = aiosqlite_engine(path) if name == "aiosqlite" else peerline_engine(path)
    return asyncio.run(measure_async_session(engine, n, transactions))


COLUMNS = ("Peerline", "aiosqlite", "SQLAlchemy", "sqlite3")


def report(args: argparse.Namespace, results: dict[str, list[dict]]) -> None:
    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print(
        f"\nSQLite statements ({os.cpu_count()} cores, WAL, synchronous=FULL; median of "
        f"{args.rounds} rounds of {args.statements} statements and {args.transactions} "
        "transactions)"
    )
    print(f"{'measure':<36}" + "".join(f"{c:>12}" for c in COLUMNS) + f"{'gain':>8}")
    for label, key, fmt in (
        ("µs per INSERT (one row)", "insert_us", "{:.1f}"),
        ("µs per SELECT by key", "select_us", "{:.1f}"),
        ("transactions/s (1 INSERT + COMMIT)", "tx_s", "{:.0f}"),
    ):
        figures = [median(name, key) for name in COLUMNS]
        ours, stock = figures[0], figures[1]
        gain = ours / stock if key == "tx_s" else stock / ours
        print(f"{label:<36}" + "".join(f"{fmt.format(f):>12}" for f in figures) + f"{gain:>7.1f}x")
    print(
        "Peerline: AsyncSession, shared.db.create_engine; aiosqlite: AsyncSession, stock "
        "driver;\nSQLAlchemy: sync Session on sqlite3 (floor for SQLAlchemy); sqlite3: the "
        "module alone.\ngain: Peerline over aiosqlite."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--statements", type=int, default=2000)
    parser.add_argument("--transactions", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="peerline-bench-", dir=args.dir))
    results: dict[str, list[dict]] = {name: [] for name in COLUMNS}
    for i in range(args.rounds):
        for name in COLUMNS:
            path = workdir / f"{name}-{i}.db"
            results[name].append(measure(name, path, args.statements, args.transactions))
    report(args, results)


if __name__ == "__main__":
    main()
