"""incidents, assignments, care ended, first offers, contacts, facts, distinct, DP ledger

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from shared.kernel_migrations import create_kernel_tables_v1, drop_kernel_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    create_kernel_tables_v1()
    op.create_table(
        "metrics_incidents",
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", TZ, nullable=False),
        sa.Column("involved", sa.Integer(), nullable=False),
        sa.Column("retracted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_metrics_incidents")),
    )
    _indexes("metrics_incidents", "agency_id", "occurred_at")
    op.create_table(
        "metrics_assignments",
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("supporter_agency_id", sa.String(length=32), nullable=False),
        sa.Column("supporter_id", sa.String(length=128), nullable=True),
        sa.Column("assigned_at", TZ, nullable=False),
        sa.Column("incident_occurred_at", TZ, nullable=True),
        sa.Column("care_for_carer", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_metrics_assignments")),
    )
    _indexes("metrics_assignments", "agency_id", "assigned_at")
    op.create_table(
        "metrics_care_ended",
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_metrics_care_ended")),
    )
    op.create_table(
        "metrics_first_offers",
        sa.Column("checkin_id", sa.String(length=36), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("scheduled_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("checkin_id", name=op.f("pk_metrics_first_offers")),
    )
    _indexes("metrics_first_offers", "agency_id", "assignment_id", "scheduled_at")
    op.create_table(
        "metrics_contacts",
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("logged_at", TZ, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("initiated_by", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("checkin_id", sa.String(length=36), nullable=True),
        sa.Column("officer_ref", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_metrics_contacts")),
    )
    _indexes("metrics_contacts", "agency_id", "checkin_id", "logged_at")
    op.create_table(
        "metrics_facts",
        sa.Column("fact_id", sa.String(length=80), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("measure", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("fact_id", name=op.f("pk_metrics_facts")),
    )
    _indexes("metrics_facts", "agency_id", "measure", "on")
    op.create_table(
        "metrics_distinct",
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("officers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agency_id", "period", name=op.f("pk_metrics_distinct")),
    )
    op.create_table(
        "metrics_dp_ledger",
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("spent", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_metrics_dp_ledger")),
    )


def downgrade() -> None:
    for table in (
        "metrics_dp_ledger",
        "metrics_distinct",
        "metrics_facts",
        "metrics_contacts",
        "metrics_first_offers",
        "metrics_care_ended",
        "metrics_assignments",
        "metrics_incidents",
    ):
        op.drop_table(table)
    drop_kernel_tables_v1()
