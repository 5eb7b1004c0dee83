"""care ending and care for the carers, officers' background, training reminders

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("category", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("cares_for", sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f("ix_matches_cares_for"), ["cares_for"], unique=False)
    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("background", sa.JSON(), nullable=True))
    op.create_table(
        "training_reminders",
        sa.Column("supporter_id", sa.String(length=128), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "supporter_id", "item", "expires_on", name=op.f("pk_training_reminders")
        ),
    )


def downgrade() -> None:
    op.drop_table("training_reminders")
    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.drop_column("background")
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matches_cares_for"))
        batch_op.drop_column("cares_for")
        batch_op.drop_column("category")
