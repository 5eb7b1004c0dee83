"""assignment moves, officers' requests, and which assignments are requests

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Assignments opened before were all for incidents; the column then loses its
    # default, as every new assignment says (`care.assigned`).
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("for_request", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.alter_column("for_request", server_default=None)

    op.create_table(
        "assignment_moves",
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("move", sa.Integer(), nullable=False),
        sa.Column("supporter_id", sa.String(length=128), nullable=False),
        sa.Column("supporter_agency_id", sa.String(length=32), nullable=False),
        sa.Column("heard_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_assignment_moves")),
    )
    with op.batch_alter_table("assignment_moves", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_moves_heard_at"), ["heard_at"], unique=False
        )

    op.create_table(
        "officer_requests",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("heard_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_officer_requests")),
    )
    with op.batch_alter_table("officer_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_officer_requests_heard_at"), ["heard_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("officer_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_officer_requests_heard_at"))
    op.drop_table("officer_requests")
    with op.batch_alter_table("assignment_moves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_moves_heard_at"))
    op.drop_table("assignment_moves")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_column("for_request")
