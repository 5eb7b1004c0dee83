"""Freezing a month's release: computed once the month has closed, the first time anyone
asks for it, then kept word for word (decision 76).

A month closes `metrics_release_after_hours` after it ends (events still on their way
arrive meanwhile). Its release, for the region and every agency together
(`hierarchy.release_month`), is stored on first request; replicas racing to store it
keep the first, and every later request, on any replica, reads that one. An event
counted after its month froze counts in the next month that has not
(`aggregation`), so a published figure never changes and two releases never differ
by a late event. An open month is not published at all: a figure that changes from one
day to the next is a difference of one event.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from shared.db import upsert_insert
from shared.service import ServiceRuntime

from .domain import Granularity, Window
from .hierarchy import release_month
from .store import ReleaseRow, agencies_in, read_counts


def month_window(period: str) -> Window:
    year, month = int(period[:4]), int(period[5:7])
    first = date(year, month, 1)
    after = date(year + (month == 12), month % 12 + 1, 1)
    return Window(first, after - timedelta(days=1), Granularity.MONTH)


def closes_at(period: str, after_hours: float) -> datetime:
    return month_window(period).until + timedelta(hours=after_hours)


async def month(rt: ServiceRuntime, period: str, now: datetime | None = None) -> dict | None:
    """The month's frozen release, frozen now if it closed and nobody asked before;
    None while the month is open."""
    now = now or datetime.now(UTC)
    settings = rt.settings
    if now < closes_at(period, settings.metrics_release_after_hours):
        return None
    async with rt.readers() as session:
        body = await session.scalar(select(ReleaseRow.body).where(ReleaseRow.period == period))
    if body is not None:
        return body
    async with rt.sessions() as session:
        window = month_window(period)
        agencies = {
            agency: await read_counts(session, agency, window)
            for agency in await agencies_in(session, window)
        }
        region = await read_counts(session, None, window)
        body = release_month(
            period,
            agencies,
            region,
            settings.metrics_min_cell,
            settings.metrics_min_agency_officers,
        )
        insert = upsert_insert(session)(ReleaseRow)
        await session.execute(
            insert.values(period=period, body=body, frozen_at=now).on_conflict_do_nothing()
        )
        await session.commit()
        kept = await session.scalar(select(ReleaseRow.body).where(ReleaseRow.period == period))
    return kept
