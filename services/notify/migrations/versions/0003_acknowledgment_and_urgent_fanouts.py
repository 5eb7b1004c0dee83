"""an assignment's acknowledgment deadline on its delivery; urgent coordinator fan-outs

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledge_by", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("notification_fanouts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("notification_fanouts", schema=None) as batch_op:
        batch_op.drop_column("urgent")
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.drop_column("acknowledge_by")
