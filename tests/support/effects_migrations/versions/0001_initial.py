"""inbox, outbox and effects

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from alembic import op

from shared.kernel_migrations import create_kernel_tables_v1
from tests.support.effects import EffectRow

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kernel_tables_v1()
    EffectRow.__table__.create(op.get_bind())
