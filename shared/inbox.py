"""Idempotent consumption: an event id a consumer has processed has no second effect.

`first_time` records `(consumer, event_id)` in the same transaction as the handler's
effect. A redelivered event finds its row and the handler skips; a crash before commit
leaves neither the row nor the effect, so the redelivery does the work once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, UtcDateTime


class InboxRow(Base):
    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime())


async def first_time(session: AsyncSession, consumer: str, event_id: str) -> bool:
    """True if this is the first time `consumer` handles `event_id` (and records it)."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(InboxRow)
        .values(consumer=consumer, event_id=str(event_id), processed_at=datetime.now(UTC))
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
    )
    result = await session.execute(stmt)
    return result.rowcount == 1
