"""Alembic environment of the roster service (run via shared.db.migrate)."""

from alembic import context

from services.roster import assignment_store, reminders, revision, store  # noqa: F401  (its tables)
from shared import audit, inbox, outbox  # noqa: F401  (the kernel's tables)
from shared.db import run_migrations_online

run_migrations_online(context, store.Base.metadata)
