"""The roster's migrations build exactly the tables its code maps, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.roster import assignment_store, reminders, revision, store
from services.roster.app import MIGRATIONS
from shared import db

# The roster's own tables and the shared ones its first migration creates; the metadata
# also holds other services' tables, imported by their tests.
TABLES = {
    row.__tablename__
    for row in (
        store.SupporterRow,
        store.TrainingRow,
        store.OfficerRow,
        store.PreferencesRow,
        store.ResourceRow,
        store.AgencySettingsRow,
        assignment_store.MatchRow,
        assignment_store.LoadRow,
        revision.RevisionRow,
        reminders.ReminderRow,
    )
} | {"outbox", "inbox", "audit_log"}


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return table is None or table.name in TABLES


async def test_the_migrations_match_the_tables(database_url):
    engine = db.create_engine(database_url)
    try:
        await db.migrate(engine, MIGRATIONS)
        async with engine.connect() as conn:
            differences = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"include_object": _ours}),
                    db.Base.metadata,
                )
            )
    finally:
        await engine.dispose()
    assert differences == []
