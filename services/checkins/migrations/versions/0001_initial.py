"""assignments, check-ins, contacts, referrals, resources, policies, feedback codes, exceptions

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
        "assignments",
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("personnel_id", sa.String(length=128), nullable=False),
        sa.Column("supporter_id", sa.String(length=128), nullable=False),
        sa.Column("supporter_agency_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("incident_occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("care_for_carer", sa.Boolean(), nullable=False),
        sa.Column("care_ended", sa.Boolean(), nullable=False),
        sa.Column("declined", sa.Boolean(), nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_assignments_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assignments_last_activity_at"), ["last_activity_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assignments_supporter_id"), ["supporter_id"], unique=False
        )

    op.create_table(
        "checkins",
        sa.Column("checkin_id", sa.String(length=36), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("supporter_id", sa.String(length=128), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("checkin_id", name=op.f("pk_checkins")),
        sa.UniqueConstraint("assignment_id", "sequence", name=op.f("uq_checkins_assignment_id")),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkins_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_checkins_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_checkins_status"), ["status"], unique=False)

    op.create_table(
        "confidentiality_exceptions",
        sa.Column("exception_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_role", sa.String(length=32), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("exception_id", name=op.f("pk_confidentiality_exceptions")),
    )
    with op.batch_alter_table("confidentiality_exceptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_confidentiality_exceptions_agency_id"), ["agency_id"], unique=False
        )

    op.create_table(
        "contacts",
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("supporter_id", sa.String(length=128), nullable=False),
        sa.Column("supporter_agency_id", sa.String(length=32), nullable=False),
        sa.Column("officer_ref", sa.String(length=64), nullable=False),
        sa.Column("assignment_id", sa.String(length=36), nullable=True),
        sa.Column("checkin_id", sa.String(length=36), nullable=True),
        sa.Column("initiated_by", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("duration_bucket", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("resources_offered", sa.JSON(), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_contacts")),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contacts_assignment_id"), ["assignment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contacts_logged_at"), ["logged_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contacts_supporter_id"), ["supporter_id"], unique=False
        )

    op.create_table(
        "feedback_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_feedback_codes")),
    )
    op.create_table(
        "policies",
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("first_offer_after", sa.Float(), nullable=False),
        sa.Column("window_closes_after", sa.Float(), nullable=False),
        sa.Column("follow_ups", sa.JSON(), nullable=False),
        sa.Column("anniversary_after", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agency_id", "category", name=op.f("pk_policies")),
    )
    op.create_table(
        "referrals",
        sa.Column("referral_id", sa.String(length=36), nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_referrals")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_contact_id"), ["contact_id"], unique=False)

    op.create_table(
        "known_resources",
        sa.Column("resource_id", sa.String(length=128), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("region_wide", sa.Boolean(), nullable=False),
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("resource_id", name=op.f("pk_known_resources")),
    )


def downgrade() -> None:
    op.drop_table("known_resources")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_contact_id"))

    op.drop_table("referrals")
    op.drop_table("policies")
    op.drop_table("feedback_codes")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_supporter_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_logged_at"))
        batch_op.drop_index(batch_op.f("ix_contacts_assignment_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_agency_id"))

    op.drop_table("contacts")
    with op.batch_alter_table("confidentiality_exceptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_confidentiality_exceptions_agency_id"))

    op.drop_table("confidentiality_exceptions")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkins_status"))
        batch_op.drop_index(batch_op.f("ix_checkins_assignment_id"))
        batch_op.drop_index(batch_op.f("ix_checkins_agency_id"))

    op.drop_table("checkins")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_supporter_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_last_activity_at"))
        batch_op.drop_index(batch_op.f("ix_assignments_incident_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_agency_id"))

    op.drop_table("assignments")
    drop_kernel_tables_v1()
