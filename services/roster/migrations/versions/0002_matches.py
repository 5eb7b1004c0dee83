"""matches, supporter loads, roster revision

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "matches",
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("personnel_id", sa.String(length=128), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=True),
        sa.Column("supporter_id", sa.String(length=128), nullable=True),
        sa.Column("supporter_agency_id", sa.String(length=32), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("incident_id", "personnel_id", name=op.f("pk_matches")),
    )
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_matches_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_matches_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_matches_supporter_id"), ["supporter_id"], unique=False)
    op.create_table(
        "supporter_loads",
        sa.Column("supporter_id", sa.String(length=128), nullable=False),
        sa.Column("open_assignments", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("supporter_id", name=op.f("pk_supporter_loads")),
    )
    op.create_table(
        "roster_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_revision")),
    )


def downgrade() -> None:
    op.drop_table("roster_revision")
    op.drop_table("supporter_loads")
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_matches_supporter_id"))
        batch_op.drop_index(batch_op.f("ix_matches_assignment_id"))
        batch_op.drop_index(batch_op.f("ix_matches_agency_id"))
    op.drop_table("matches")
