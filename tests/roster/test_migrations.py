"""The roster's migrations build exactly the tables its code maps, on both databases."""

from __future__ import annotations

from services.roster import assignment_store, reminders, revision, store  # noqa: F401  (every table of the roster)
from services.roster.app import MIGRATIONS
from tests.support.migrations import differences


async def test_the_migrations_match_the_tables(database_url):
    assert await differences(database_url, MIGRATIONS, store.Base.metadata) == []
