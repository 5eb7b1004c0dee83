"""The notify service's migrations build exactly the tables its code maps, on both
databases."""

from __future__ import annotations

from services.notify import store
from services.notify.app import MIGRATIONS
from tests.support.migrations import differences


async def test_the_migrations_match_the_tables(database_url):
    assert await differences(database_url, MIGRATIONS, store.Base.metadata) == []
