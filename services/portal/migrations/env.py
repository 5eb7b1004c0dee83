"""Alembic environment of the portal (run via shared.db.migrate)."""

from alembic import context

from services.portal.store import PortalBase
from shared.db import run_migrations_online

run_migrations_online(context, PortalBase.metadata)
