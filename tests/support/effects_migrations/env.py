"""Alembic environment of the effects test service (run via shared.db.migrate)."""

from alembic import context

from shared.db import run_migrations_online
from tests.support.effects import EffectsBase

run_migrations_online(context, EffectsBase.metadata)
