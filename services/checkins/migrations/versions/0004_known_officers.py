"""known officers: the roster's officers as pseudonyms

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
        "known_officers",
        sa.Column("officer_ref", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("officer_ref", name=op.f("pk_known_officers")),
    )


def downgrade() -> None:
    op.drop_table("known_officers")
