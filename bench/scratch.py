"""A throwaway database for a benchmark: a SQLite file, or a new PostgreSQL database
on the server a URL names, dropped afterwards, so a run never writes into a database
that holds anything else."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import asyncpg


@contextlib.contextmanager
def scratch_database(url: str | None, workdir: Path, name: str) -> Iterator[str]:
    """`workdir/<name>.db` when `url` is None, else a new database beside `url`'s."""
    if url is None:
        yield f"sqlite+aiosqlite:///{workdir / f'{name}.db'}"
        return
    database = f"peerline_bench_{secrets.token_hex(4)}"
    admin = url.replace("postgresql+asyncpg", "postgresql")

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f'CREATE DATABASE "{database}"'))
    try:
        yield f"{url.rsplit('/', 1)[0]}/{database}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
