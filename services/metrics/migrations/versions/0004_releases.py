"""releases: each closed month's figures for the region and every agency, frozen;
assignments keep their incident, so a retracted incident's offers do not count

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metrics_releases",
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_metrics_releases")),
    )
    with op.batch_alter_table("metrics_assignments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("incident_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("metrics_assignments", schema=None) as batch_op:
        batch_op.drop_column("incident_id")
    op.drop_table("metrics_releases")
