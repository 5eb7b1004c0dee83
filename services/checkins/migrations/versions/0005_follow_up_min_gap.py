"""policies: the least gap between a contact and the next follow-up

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Policies set before keep the program's default, 3 days (259200 s); the column then
    # loses its default, as every new policy names its gap (`routes/policies.py`).
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "follow_up_min_gap", sa.Float(), nullable=False, server_default=sa.text("259200")
            )
        )
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.alter_column("follow_up_min_gap", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_column("follow_up_min_gap")
