"""officers' own details, sealed; unfilled outcomes of retracted incidents released

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("personal", sa.LargeBinary(), nullable=True))
    # A retraction now releases an incident's unfilled outcomes too, so the coordinators'
    # list of unfilled assignments holds only those still to fill. Before, it released
    # only the assigned ones: an incident with a released outcome was retracted.
    op.execute(
        "UPDATE matches SET outcome = 'released', ended_at = decided_at "
        "WHERE outcome = 'unfilled' AND incident_id IN "
        "(SELECT incident_id FROM matches WHERE outcome = 'released')"
    )


def downgrade() -> None:
    with op.batch_alter_table("officers", schema=None) as batch_op:
        batch_op.drop_column("personal")
