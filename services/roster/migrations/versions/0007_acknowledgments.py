"""acknowledgment deadlines of assignments, and officers' requests for a peer

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("for_request", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("acknowledge_by", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reach_by", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("moves", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(
            sa.Column("tried", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("escalation", sa.String(24), nullable=True))
    with op.batch_alter_table("agency_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "acknowledge_request_within",
                sa.Integer(),
                nullable=False,
                server_default=sa.text("600"),
            )
        )
        batch_op.add_column(
            sa.Column(
                "acknowledge_assignment_within",
                sa.Integer(),
                nullable=False,
                server_default=sa.text("14400"),
            )
        )
        batch_op.add_column(
            sa.Column("max_moves", sa.Integer(), nullable=False, server_default=sa.text("3"))
        )
    op.create_table(
        "support_requests",
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("agency_id", sa.String(32), nullable=False),
        sa.Column("personnel_id", sa.String(128), nullable=False),
        sa.Column("reach", sa.String(16), nullable=False),
        sa.Column("preferred_gender", sa.String(40), nullable=True),
        sa.Column("language", sa.String(40), nullable=True),
        sa.Column("outside_agency", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_support_requests")),
    )
    with op.batch_alter_table("support_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_support_requests_personnel_id"), ["personnel_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("support_requests")
    with op.batch_alter_table("agency_settings", schema=None) as batch_op:
        for column in ("acknowledge_request_within", "acknowledge_assignment_within", "max_moves"):
            batch_op.drop_column(column)
    with op.batch_alter_table("matches", schema=None) as batch_op:
        for column in (
            "for_request",
            "acknowledge_by",
            "acknowledged_at",
            "reach_by",
            "moves",
            "tried",
            "escalated_at",
            "escalation",
        ):
            batch_op.drop_column(column)
