"""feedback codes: only the unspent ones, in no order

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keyed by the hash alone (on SQLite without the rowid that kept the order of issue),
    # and a spent code is deleted, not marked: a spent and an unknown code look the same.
    op.create_table(
        "unspent_feedback_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_unspent_feedback_codes")),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO unspent_feedback_codes (code_hash, agency_id) "
        "SELECT code_hash, agency_id FROM feedback_codes WHERE NOT used ORDER BY code_hash"
    )
    op.drop_table("feedback_codes")


def downgrade() -> None:
    op.create_table(
        "feedback_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_feedback_codes")),
    )
    op.execute(
        "INSERT INTO feedback_codes (code_hash, agency_id, used) "
        "SELECT code_hash, agency_id, false FROM unspent_feedback_codes"
    )
    op.drop_table("unspent_feedback_codes")
