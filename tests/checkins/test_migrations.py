"""The check-ins service's migrations build exactly the tables its code maps, on both
databases, and keep what was stored before."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from services.checkins import store
from services.checkins.app import MIGRATIONS
from shared import db
from tests.support.migrations import differences


async def test_the_migrations_match_the_tables(database_url):
    assert await differences(database_url, MIGRATIONS, store.Base.metadata) == []


async def test_a_policy_set_before_the_follow_up_gap_keeps_the_default_3_days(database_url):
    engine = db.create_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))

    def upgrade(connection, revision: str) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade, "0004")
            await conn.execute(
                text(
                    "INSERT INTO policies (agency_id, category, first_offer_after, "
                    "window_closes_after, follow_ups, updated_at) "
                    "VALUES ('A1', 'default', 3600, 7200, '[]', CURRENT_TIMESTAMP)"
                )
            )
        await db.migrate(engine, MIGRATIONS)
        async with engine.connect() as conn:
            gap = await conn.scalar(text("SELECT follow_up_min_gap FROM policies"))
    finally:
        await engine.dispose()
    assert gap == 3 * 24 * 3600


async def test_an_assignment_opened_before_requests_is_not_one(database_url):
    engine = db.create_engine(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))

    def upgrade(connection, revision: str) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade, "0005")
            await conn.execute(
                text(
                    "INSERT INTO assignments (assignment_id, agency_id, incident_id, "
                    "personnel_id, supporter_id, supporter_agency_id, incident_occurred_at, "
                    "assigned_at, care_for_carer, care_ended, declined, last_activity_at) "
                    "VALUES ('a1', 'A1', 'i1', 'B1', 'S1', 'A1', CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP, false, false, false, CURRENT_TIMESTAMP)"
                )
            )
        await db.migrate(engine, MIGRATIONS)
        async with engine.connect() as conn:
            for_request = await conn.scalar(text("SELECT for_request FROM assignments"))
    finally:
        await engine.dispose()
    assert for_request in (False, 0)
