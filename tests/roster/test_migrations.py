"""The roster's migrations build exactly the tables its code maps, on both databases."""

from __future__ import annotations

from services.roster import assignment_store, reminders, revision, store
from services.roster.app import MIGRATIONS
from tests.support.migrations import differences

MODELS = (
    store.SupporterRow,
    store.TrainingRow,
    store.OfficerRow,
    store.PreferencesRow,
    store.ResourceRow,
    store.AgencySettingsRow,
    store.CoordinatorRow,
    assignment_store.MatchRow,
    assignment_store.LoadRow,
    revision.RevisionRow,
    reminders.ReminderRow,
)


async def test_the_migrations_match_the_tables(database_url):
    assert await differences(database_url, MIGRATIONS, MODELS) == []
