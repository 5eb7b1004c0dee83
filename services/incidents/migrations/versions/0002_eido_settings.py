"""eido settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eido_settings",
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("agency_identifiers", sa.JSON(), nullable=False),
        sa.Column("dispatchers", sa.Boolean(), nullable=False),
        sa.Column("personnel_id", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_eido_settings")),
    )


def downgrade() -> None:
    op.drop_table("eido_settings")
