"""A minimal service on the kernel, to test and measure consumption: every event it
consumes writes one effect row and stages one outbox event, in the batch's
transaction. Effect rows have no unique key on purpose, so a second effect of one
event would show up as a second row instead of an error."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import Integer, MetaData, String, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared import outbox
from shared.bus import Received
from shared.db import NAMING
from shared.events import Event, NotificationSent
from shared.service import ServiceRuntime
from shared.settings import Settings
from shared.streams import EVENTS

MIGRATIONS = Path(__file__).parent / "effects_migrations"
SUBJECT = "ps.*.feedback.submitted"


class EffectsBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class EffectRow(EffectsBase):
    __tablename__ = "effects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    subject: Mapped[str] = mapped_column(String(255))
    stream_seq: Mapped[int] = mapped_column(Integer)


Hook = Callable[[list[Received[Event]]], Awaitable[None]]


def effects_runtime(
    nats_url: str,
    database_url: str,
    data_dir: Path,
    *,
    durable: str = "effects",
    before_apply: Hook | None = None,
    max_batch: int = 256,
    **more: object,
) -> ServiceRuntime:
    """A runtime consuming `FeedbackSubmitted` on `durable`; `before_apply` runs inside
    each batch's transaction, before the effects (tests make it fail or stall). `more`
    are further settings."""
    settings = Settings(
        service="effects",
        nats_url=nats_url,
        database_url=database_url,
        data_dir=data_dir,
        **more,
    )
    runtime = ServiceRuntime(settings, migrations=MIGRATIONS)

    async def apply(session: AsyncSession, items: list[Received[Event]]) -> None:
        if before_apply is not None:
            await before_apply(items)
        await session.execute(
            insert(EffectRow.__table__),
            [
                {
                    "event_id": str(i.value.event_id),
                    "subject": i.delivery.subject,
                    "stream_seq": i.delivery.stream_seq,
                }
                for i in items
            ],
        )
        await outbox.add_all(
            session,
            [
                (
                    NotificationSent(
                        agency_id=i.value.agency_id,
                        notification_id=uuid.uuid4(),
                        cause_event_id=i.value.event_id,
                        recipient_id="effects",
                        channel="webhook",
                        attempts=1,
                    ),
                    i.trace,
                )
                for i in items
            ],
            source=runtime.source,
        )

    runtime.consume(
        subject=SUBJECT, durable=durable, stream=EVENTS, apply=apply, max_batch=max_batch
    )
    return runtime


async def effects(runtime: ServiceRuntime) -> list[EffectRow]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(EffectRow).order_by(EffectRow.id)))


async def effect_count(runtime: ServiceRuntime) -> int:
    async with runtime.sessions() as session:
        return await session.scalar(select(func.count()).select_from(EffectRow))
