"""eido identifiers: each belongs to one agency

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
    table = op.create_table(
        "eido_identifiers",
        sa.Column("identifier", sa.String(length=255), nullable=False),
        sa.Column("agency_id", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("identifier", name=op.f("pk_eido_identifiers")),
    )
    op.create_index(
        op.f("ix_eido_identifiers_agency_id"), "eido_identifiers", ["agency_id"], unique=False
    )
    # The claims already stored, the earliest setting first where two agencies named one.
    settings = sa.table(
        "eido_settings",
        sa.column("agency_id", sa.String),
        sa.column("agency_identifiers", sa.JSON),
        sa.column("updated_at", sa.DateTime),
    )
    rows = op.get_bind().execute(sa.select(settings).order_by(settings.c.updated_at)).all()
    owners: dict[str, str] = {}
    for row in rows:
        for identifier in row.agency_identifiers:
            owners.setdefault(identifier, row.agency_id)
    if owners:
        op.bulk_insert(table, [{"identifier": i, "agency_id": a} for i, a in owners.items()])


def downgrade() -> None:
    op.drop_index(op.f("ix_eido_identifiers_agency_id"), table_name="eido_identifiers")
    op.drop_table("eido_identifiers")
