"""Alembic environment of the check-ins service (run via shared.db.migrate)."""

from alembic import context

from services.checkins import store
from shared import audit, inbox, outbox  # noqa: F401  (the kernel's tables)
from shared.db import run_migrations_online

run_migrations_online(context, store.Base.metadata)
