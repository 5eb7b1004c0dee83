"""acknowledgments: each assignment's first, how long it took and whether in time

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
    op.create_table(
        "metrics_acknowledgments",
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("for_request", sa.Boolean(), nullable=False),
        sa.Column("waited_seconds", sa.Integer(), nullable=False),
        sa.Column("within_deadline", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_metrics_acknowledgments")),
    )
    with op.batch_alter_table("metrics_acknowledgments", schema=None) as batch_op:
        for column in ("agency_id", "acknowledged_at"):
            batch_op.create_index(
                batch_op.f(f"ix_metrics_acknowledgments_{column}"), [column], unique=False
            )


def downgrade() -> None:
    op.drop_table("metrics_acknowledgments")
