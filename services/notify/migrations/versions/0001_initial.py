"""notification deliveries and fan-outs

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from shared.kernel_migrations import create_kernel_tables_v1, drop_kernel_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kernel_tables_v1()
    op.create_table(
        "notification_deliveries",
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("cause_event_id", sa.String(length=36), nullable=False),
        sa.Column("recipient_id", sa.String(length=128), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("recipient_agency_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=36), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel_index", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_for", sa.String(length=16), nullable=True),
        sa.Column("last_error", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=36), nullable=True),
        sa.Column("traceparent", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint(
            "cause_event_id", "recipient_id", name=op.f("uq_notification_deliveries_cause_event_id")
        ),
    )
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_deliveries_agency_id"), ["agency_id"], unique=False
        )
        batch_op.create_index(
            "ix_notification_deliveries_due", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index(
            "ix_notification_deliveries_recipient", ["recipient_id", "sent_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notification_deliveries_reference"), ["reference"], unique=False
        )

    op.create_table(
        "notification_fanouts",
        sa.Column("cause_event_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=36), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expanded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("traceparent", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cause_event_id", name=op.f("pk_notification_fanouts")),
    )
    with op.batch_alter_table("notification_fanouts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_fanouts_next_attempt_at"), ["next_attempt_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notification_fanouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_fanouts_next_attempt_at"))

    op.drop_table("notification_fanouts")
    with op.batch_alter_table("notification_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_deliveries_reference"))
        batch_op.drop_index("ix_notification_deliveries_recipient")
        batch_op.drop_index("ix_notification_deliveries_due")
        batch_op.drop_index(batch_op.f("ix_notification_deliveries_agency_id"))

    op.drop_table("notification_deliveries")
    drop_kernel_tables_v1()
