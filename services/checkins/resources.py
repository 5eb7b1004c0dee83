"""The check-ins service's read model of the roster's resource directory.

A referral must name a resource the officer's agency may use, and check-ins never call
the roster to find out: it keeps `known_resources` from the roster's `ResourceUpdated`
events, with what a referral needs (type, owner, region-wide, active) and no names or
numbers.

Each row remembers the `occurred_at` of the event that last wrote it, and an event
only changes the row if it is newer. Events of one resource usually arrive in order,
but a replay of old events (a new durable, a stream restored, the roster republishing)
must not roll a resource back, and region-wide resources may be written by regional
coordinators of several agencies, whose subjects are not ordered with each other. The
comparison sits in the upsert itself, so replicas sharing the durable race harmlessly.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import Received
from shared.db import upsert_insert
from shared.events import ResourceUpdated

from .store import ResourceRow


async def updated(session: AsyncSession, items: list[Received[ResourceUpdated]]) -> None:
    insert = upsert_insert(session)
    for item in items:
        event = item.value
        values = {
            "agency_id": event.agency_id,
            "region_wide": event.region_wide,
            "resource_type": event.resource_type,
            "active": event.active,
            "updated_at": event.occurred_at,
        }
        statement = insert(ResourceRow).values(resource_id=event.resource_id, **values)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["resource_id"],
                set_=values,
                where=ResourceRow.updated_at < statement.excluded.updated_at,
            )
        )
