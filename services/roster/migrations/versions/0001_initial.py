"""supporters, training, officers, preferences, resources, agency settings, outbox, inbox,
audit

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
        "agency_settings",
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("exclude_same_unit", sa.Boolean(), nullable=False),
        sa.Column("share_with_region", sa.Boolean(), nullable=False),
        sa.Column("use_regional_pool", sa.Boolean(), nullable=False),
        sa.Column("required_training", sa.JSON(), nullable=False),
        sa.Column("care_for_carers_after", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_agency_settings")),
    )
    op.create_table(
        "officer_preferences",
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("personnel_id", sa.String(length=128), nullable=False),
        sa.Column("preferred_gender", sa.String(length=64), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("outside_agency", sa.Boolean(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agency_id", "personnel_id", name=op.f("pk_officer_preferences")),
    )
    op.create_table(
        "officers",
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("personnel_id", sa.String(length=128), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=True),
        sa.Column("rank", sa.String(length=64), nullable=True),
        sa.Column("supervisor_id", sa.String(length=128), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agency_id", "personnel_id", name=op.f("pk_officers")),
    )
    op.create_table(
        "resources",
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("crisis_line", sa.Boolean(), nullable=False),
        sa.Column("always_open", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("resource_id", name=op.f("pk_resources")),
    )
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resources_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "supporters",
        sa.Column("supporter_id", sa.String(length=128), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("personnel_id", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("certified_until", sa.Date(), nullable=True),
        sa.Column("max_open_assignments", sa.Integer(), nullable=False),
        sa.Column("accepts_cross_agency", sa.Boolean(), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("personal", sa.LargeBinary(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("supporter_id", name=op.f("pk_supporters")),
    )
    with op.batch_alter_table("supporters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supporters_agency_id"), ["agency_id"], unique=False)

    op.create_table(
        "supporter_training",
        sa.Column("supporter_id", sa.String(length=128), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supporter_id"],
            ["supporters.supporter_id"],
            name=op.f("fk_supporter_training_supporter_id_supporters"),
        ),
        sa.PrimaryKeyConstraint("supporter_id", "area", name=op.f("pk_supporter_training")),
    )
    with op.batch_alter_table("supporter_training", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supporter_training_agency_id"), ["agency_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("supporter_training", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supporter_training_agency_id"))

    op.drop_table("supporter_training")
    with op.batch_alter_table("supporters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supporters_agency_id"))

    op.drop_table("supporters")
    with op.batch_alter_table("resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resources_agency_id"))

    op.drop_table("resources")
    op.drop_table("officers")
    op.drop_table("officer_preferences")
    op.drop_table("agency_settings")
    drop_kernel_tables_v1()
