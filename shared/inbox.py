"""Idempotent consumption: an event id a consumer has processed has no second effect.

`fresh` records `(consumer, event_id)` for a whole batch in one statement, in the same
transaction as the handler's effects. A redelivered event finds its row and is skipped;
a crash before commit leaves neither the rows nor the effects, so the redelivery does
the work once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import KernelBase, UtcDateTime, upsert_insert


class InboxRow(KernelBase):
    __tablename__ = "inbox"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime())


async def fresh(session: AsyncSession, consumer: str, event_ids: Iterable[str]) -> set[str]:
    """The ids among `event_ids` that `consumer` has not handled before (now recorded)."""
    ids = list(dict.fromkeys(event_ids))
    if not ids:
        return set()
    insert = upsert_insert(session)
    now = datetime.now(UTC)
    # One cached statement, executed for many rows (SQLAlchemy sends them as one
    # multi-row INSERT); only the rows actually inserted come back.
    stmt = (
        insert(InboxRow)
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        .returning(InboxRow.event_id)
    )
    rows = [{"consumer": consumer, "event_id": i, "processed_at": now} for i in ids]
    return set((await session.scalars(stmt, rows)).all())
