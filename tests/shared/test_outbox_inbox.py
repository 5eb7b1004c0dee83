"""The outbox makes a database write and its event succeed or fail together; the inbox
makes a redelivered event a no-op. Run on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import nats
import pytest
from sqlalchemy import func, select

from shared import db, inbox, outbox
from shared.events import FeedbackSubmitted
from shared.streams import EVENTS, provision
from tests.support.bus import EventLog

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "incidents" / "migrations"


@pytest.fixture
async def sessions(database_url):
    engine = db.create_engine(database_url)
    await db.migrate(engine, MIGRATIONS)
    yield db.sessionmaker(engine)
    await engine.dispose()


async def _count(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_a_rolled_back_write_leaves_no_event(sessions, nats_url):
    event = FeedbackSubmitted(agency_id="A1", rating=3, would_recommend=False)
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            outbox.add(session, event, source="test")
            raise RuntimeError("the change failed")
    assert await _count(sessions, outbox.OutboxRow) == 0


async def test_the_relay_publishes_committed_events_in_order_and_marks_them(sessions, nats_url):
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    events = [FeedbackSubmitted(agency_id="A1", rating=r, would_recommend=True) for r in (1, 2, 3)]
    async with sessions() as session, session.begin():
        for event in events:
            outbox.add(session, event, source="test")
    relay = outbox.Relay(sessions, lambda: js)
    async with EventLog(nats_url, "ps.A1.>", EVENTS.name) as log:
        assert await relay.publish_pending() == 3
        assert await relay.publish_pending() == 0
        await relay.mark()
        seen = await log.wait_for(FeedbackSubmitted, count=3)
    assert [e.event_id for e in seen] == [e.event_id for e in events]
    async with sessions() as session:
        unpublished = await session.scalar(
            select(func.count()).where(outbox.OutboxRow.published_at.is_(None))
        )
    assert unpublished == 0
    await nc.close()


async def test_events_wait_in_the_outbox_while_the_bus_is_away(sessions, nats_server):
    async with sessions() as session, session.begin():
        outbox.add(
            session, FeedbackSubmitted(agency_id="A1", rating=5, would_recommend=True), source="t"
        )
    assert await outbox.Relay(sessions, lambda: None).publish_pending() == 0
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await provision(js)
    assert await outbox.Relay(sessions, lambda: js).publish_pending() == 1
    await nc.close()


async def test_published_rows_are_purged_in_chunks_and_unpublished_ones_stay(sessions, nats_url):
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await provision(js)
    async with sessions() as session, session.begin():
        for rating in (1, 2, 3, 4, 5):
            outbox.add(
                session,
                FeedbackSubmitted(agency_id="A1", rating=rating, would_recommend=True),
                source="test",
            )
    relay = outbox.Relay(sessions, lambda: js, keep_published=timedelta(0))
    assert await relay.publish_pending() == 5
    await relay.mark()
    async with sessions() as session, session.begin():
        outbox.add(
            session,
            FeedbackSubmitted(agency_id="A1", rating=1, would_recommend=False),
            source="test",
        )
    await relay.purge(chunk=2)
    async with sessions() as session:
        left = (await session.scalars(select(outbox.OutboxRow.published_at))).all()
    assert left == [None]
    await nc.close()


async def test_the_inbox_admits_an_event_id_once_per_consumer(sessions):
    async with sessions() as session, session.begin():
        assert await inbox.fresh(session, "roster", ["e-1", "e-2", "e-1"]) == {"e-1", "e-2"}
        assert await inbox.fresh(session, "roster", ["e-1", "e-3"]) == {"e-3"}
        assert await inbox.fresh(session, "metrics", ["e-1"]) == {"e-1"}
    async with sessions() as session, session.begin():
        assert await inbox.fresh(session, "roster", ["e-1", "e-2", "e-3"]) == set()
        assert await inbox.fresh(session, "roster", []) == set()


async def test_an_inbox_mark_rolls_back_with_the_handlers_effect(sessions):
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            assert await inbox.fresh(session, "roster", ["e-2"]) == {"e-2"}
            raise RuntimeError("handler failed")
    async with sessions() as session, session.begin():
        assert await inbox.fresh(session, "roster", ["e-2"]) == {"e-2"}


async def test_a_logged_database_error_carries_no_value_written(sessions):
    """Logs get database errors with their tracebacks; the values (here a would-be
    personnel id, which PostgreSQL quotes back in its error) must not reach them."""
    import logging

    from sqlalchemy.exc import IntegrityError

    from shared.logging import RedactingFormatter

    value = "B1234-" + "secret"  # not spelled out: tracebacks quote source lines
    with pytest.raises(IntegrityError) as caught:
        async with sessions() as session, session.begin():
            session.add(inbox.InboxRow(consumer="c", event_id=value, processed_at=None))
    error = caught.value
    record = logging.LogRecord(
        "t", logging.ERROR, __file__, 1, "failed", None, (type(error), error, error.__traceback__)
    )
    logged = RedactingFormatter().format(record)
    assert "IntegrityError" in logged
    assert value not in logged
