"""The directories' revision: a counter raised in the same transaction as every change
that matching depends on (supporters, training, officers, preferences, settings), so a
process can tell with one cheap read that its matching index is stale."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Integer, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared import outbox
from shared.db import upsert_insert
from shared.events import Event

from .store import Base


class RevisionRow(Base):
    __tablename__ = "roster_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)


async def current(session: AsyncSession) -> int:
    return await session.scalar(select(RevisionRow.revision).where(RevisionRow.id == 1)) or 0


class Written(NamedTuple):
    """What putting one record did: whether it is new, and its event (None: nothing
    changed). The caller stages the events with `changed`, so an import of many
    records raises the revision once."""

    created: bool
    event: Event | None


async def changed(session: AsyncSession, *events: Event, source: str) -> None:
    """Record changes of the directories: their events in the outbox, and one new
    revision."""
    if not events:
        return
    await outbox.add_all(session, [(event, None) for event in events], source=source)
    insert = upsert_insert(session)
    await session.execute(
        insert(RevisionRow)
        .values(id=1, revision=1)
        .on_conflict_do_update(index_elements=["id"], set_={"revision": RevisionRow.revision + 1})
    )
