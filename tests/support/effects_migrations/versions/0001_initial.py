"""inbox, outbox and effects

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from alembic import op

from shared.inbox import InboxRow
from shared.outbox import OutboxRow
from tests.support.effects import EffectRow

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in (InboxRow.__table__, OutboxRow.__table__, EffectRow.__table__):
        table.create(bind)
