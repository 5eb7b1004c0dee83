"""Alembic environment of the incidents service (run via shared.db.migrate)."""

from alembic import context

from services.incidents import store  # noqa: F401  (registers the service's tables)
from shared import audit, inbox, outbox  # noqa: F401  (and the shared ones)
from shared.db import Base, run_migrations_online

run_migrations_online(context, Base.metadata)
