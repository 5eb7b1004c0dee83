"""the outbox's index of unpublished rows (kernel tables v2)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from shared.kernel_migrations import (
    create_outbox_pending_index_v2,
    drop_outbox_pending_index_v2,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox_pending_index_v2()


def downgrade() -> None:
    drop_outbox_pending_index_v2()
