"""Forgetting finished notifications (rule 8).

A ledger row says that a recipient was told about an assignment or an offer. Once it is
sent or has failed, it serves the status view and the rate limit, then nothing: rows
finished longer ago than `care_retention_days` are deleted, and so are fan-outs expanded
as long ago. Pending rows stay whatever their age. A round deletes in small
transactions, and replicas running it together only delete the same rows twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from shared.service import ServiceRuntime

from .store import DeliveryRow, FanoutRow, Status

log = logging.getLogger(__name__)

CHUNK = 500
INTERVAL = 6 * 3600.0  # seconds: rows are kept for days, deleted within hours


async def purge(runtime: ServiceRuntime, now: datetime | None = None) -> int:
    """Delete finished deliveries and expanded fan-outs past retention; how many went."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=runtime.settings.care_retention_days)
    finished = DeliveryRow.status.in_((Status.SENT, Status.FAILED))
    old = [
        (DeliveryRow, DeliveryRow.notification_id, finished & (DeliveryRow.created_at < cutoff)),
        (FanoutRow, FanoutRow.cause_event_id, FanoutRow.expanded_at < cutoff),
    ]
    purged = 0
    for table, key, condition in old:
        while True:
            async with runtime.sessions() as session, session.begin():
                chunk = select(key).where(condition).limit(CHUNK)
                deleted = await session.execute(delete(table).where(key.in_(chunk)))
            purged += deleted.rowcount
            if deleted.rowcount < CHUNK:
                break
    if purged:
        log.info("purged %d finished notification records past retention", purged)
    return purged
