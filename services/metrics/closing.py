"""Closing quarters: once a quarter is past (plus a grace period for late events), the
distinct officers contacted in it and in each of its months are frozen per agency and
for the region, and the officer pseudonyms behind them are dropped. After that nothing
in this service can tell whether two contacts were with the same officer."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from shared.db import upsert_insert
from shared.service import ServiceRuntime

from .domain import Granularity, months_of_quarter, period_of, quarter_end
from .store import ContactRow, DistinctRow

log = logging.getLogger(__name__)


async def close_quarters(runtime: ServiceRuntime, now: datetime | None = None) -> int:
    """Close every quarter that has officer refs left and is past its grace period;
    returns how many were closed."""
    now = now or datetime.now(UTC)
    grace = timedelta(days=runtime.settings.metrics_close_after_days)
    closed = 0
    while True:
        async with runtime.readers() as session:
            oldest = await session.scalar(
                select(func.min(ContactRow.logged_at)).where(ContactRow.officer_ref.is_not(None))
            )
        if oldest is None:
            return closed
        quarter = period_of(oldest, Granularity.QUARTER)
        end = quarter_end(quarter)
        if end + grace > now:
            return closed
        await _close(runtime, quarter, end)
        closed += 1


async def _close(runtime: ServiceRuntime, quarter: str, end: datetime) -> None:
    start = datetime(int(quarter[:4]), int(months_of_quarter(quarter)[0][-2:]), 1, tzinfo=UTC)
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(ContactRow.agency_id, ContactRow.logged_at, ContactRow.officer_ref).where(
                    ContactRow.logged_at >= start,
                    ContactRow.logged_at < end,
                    ContactRow.officer_ref.is_not(None),
                )
            )
        ).all()
        seen: dict[tuple[str, str], set[str]] = defaultdict(set)
        for agency, logged_at, ref in rows:
            for scope in (agency, "*"):
                seen[scope, quarter].add(ref)
                seen[scope, period_of(logged_at, Granularity.MONTH)].add(ref)
        seen.setdefault(("*", quarter), set())  # the region's row marks the quarter closed
        frozen = [
            {"agency_id": scope, "period": period, "officers": len(refs)}
            for (scope, period), refs in seen.items()
        ]
        insert = upsert_insert(session)(DistinctRow)
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=["agency_id", "period"],
                set_={"officers": DistinctRow.officers + insert.excluded.officers},
            ),
            frozen,
        )
        await session.execute(
            update(ContactRow)
            .where(ContactRow.logged_at >= start, ContactRow.logged_at < end)
            .values(officer_ref=None)
        )
        await session.commit()
    log.info("metrics: closed %s", quarter)
