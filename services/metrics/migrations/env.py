"""Alembic environment of the metrics service (run via shared.db.migrate)."""

from alembic import context

from services.metrics import store  # noqa: F401  (its tables)
from shared import audit, inbox, outbox  # noqa: F401  (and the shared ones)
from shared.db import Base, run_migrations_online

run_migrations_online(context, Base.metadata)
