"""The engines of `shared.db`: a writer, and beside it an engine for reads that do not
wait for the writer. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text

from shared import db, outbox
from shared.events import IncidentRetracted
from shared.outbox import STAGED, OutboxRow
from tests.support.migrations import head

INCIDENTS_MIGRATIONS = Path(__file__).resolve().parents[2] / "services/incidents/migrations"
metadata = MetaData()
marks = Table(
    "marks", metadata, Column("id", Integer, primary_key=True), Column("at", db.UtcDateTime())
)


async def test_reads_see_committed_writes(database_url):
    engine = db.create_engine(database_url)
    readers = db.read_engine(engine)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        now = datetime.now(UTC)
        async with db.sessionmaker(engine)() as session, session.begin():
            await session.execute(insert(marks).values(id=1, at=now))
        async with db.sessionmaker(readers)() as session:
            assert await session.scalar(select(marks.c.at)) == now
    finally:
        await readers.dispose()
        await engine.dispose()


async def test_sqlite_files_get_a_query_only_read_engine_and_other_databases_share(database_url):
    engine = db.create_engine(database_url)
    readers = db.read_engine(engine)
    try:
        if engine.dialect.name == "sqlite":
            assert readers is not engine
            assert readers.pool.size() == db.READERS
            async with readers.connect() as conn:
                assert await conn.scalar(text("PRAGMA query_only")) == 1
        else:
            assert readers is engine
    finally:
        await readers.dispose()
        await engine.dispose()


async def test_in_memory_sqlite_keeps_the_stock_driver_and_one_engine():
    engine = db.create_engine("sqlite+aiosqlite:///:memory:")
    try:
        assert db.read_engine(engine) is engine
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert type(raw.driver_connection).__module__.startswith("aiosqlite")
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_replicas_starting_together_migrate_once(database_url):
    """Two processes' engines migrating one fresh database at the same moment: one
    migrates, the other waits for it and finds the database at head."""
    engines = [db.create_engine(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(db.migrate(e, INCIDENTS_MIGRATIONS) for e in engines))
        async with engines[0].connect() as conn:
            assert await conn.scalar(text("SELECT version_num FROM alembic_version")) == head(
                INCIDENTS_MIGRATIONS
            )
    finally:
        for engine in engines:
            await engine.dispose()


async def test_every_commit_that_staged_outbox_rows_is_told_whatever_commits_it(database_url):
    """The runtime wakes the outbox relay from this hook: a plain `session.commit()`,
    a `session.begin()` block and a commit with nothing staged are told apart."""
    engine = db.create_engine(database_url)
    told: list[bool] = []
    try:
        async with engine.begin() as conn:
            await conn.run_sync(OutboxRow.metadata.create_all, tables=[OutboxRow.__table__])
        writers = db.sessionmaker(
            engine, after_commit=lambda s: told.append(s.info.pop(STAGED, False))
        )
        event = IncidentRetracted(agency_id="CA0190000", incident_id=uuid.uuid4(), reason="other")
        async with writers() as session:
            outbox.add(session, event, source="tests")
            await session.commit()
        async with writers() as session, session.begin():
            outbox.add(session, event.model_copy(update={"event_id": uuid.uuid4()}), source="tests")
        async with writers() as session:
            await session.execute(text("SELECT 1"))
            await session.commit()
        async with db.sessionmaker(engine)() as session:  # another maker: not this hook's
            outbox.add(session, event.model_copy(update={"event_id": uuid.uuid4()}), source="tests")
            await session.commit()
    finally:
        await engine.dispose()
    assert told == [True, True, False]
