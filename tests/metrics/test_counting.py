"""Counting rules the releases rest on, on the metrics use cases with a SQLite file (no
bus): a quarter's closing freezes its distinct officers and forgets who they were, a
contact arriving after that counts in the next open month and never twice, and the load
histogram follows assignments opening and care ending."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from services.metrics import aggregation, closing
from services.metrics.app import MIGRATIONS
from services.metrics.domain import Granularity, window_of
from services.metrics.store import ContactRow, DistinctRow, read_counts
from shared.bus import Received
from shared.events import CheckInClosed, Event, PeerAssigned
from shared.service import ServiceRuntime
from shared.vocab import CheckInOutcome
from tests.metrics.scenario import contact
from tests.support.fakes import runtime_on_sqlite

pytestmark = pytest.mark.unit

AGENCY = "harbor"
FEB = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
AFTER_Q1 = datetime(2026, 6, 1, tzinfo=UTC)  # past the quarter and its 45 days of grace


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[ServiceRuntime]:
    async with runtime_on_sqlite("metrics", MIGRATIONS, tmp_path) as runtime:
        yield runtime


async def _apply(runtime: ServiceRuntime, *events: Event) -> None:
    async with runtime.sessions() as session:
        await aggregation.apply_events(session, [Received(None, e) for e in events])
        await session.commit()


async def _closed(runtime: ServiceRuntime, *events: CheckInClosed) -> None:
    async with runtime.sessions() as session:
        await aggregation.apply_closed(session, [Received(None, e) for e in events])
        await session.commit()


async def _counts(runtime: ServiceRuntime, start: str, end: str, granularity=Granularity.MONTH):
    window = window_of(
        datetime.fromisoformat(start).date(),
        datetime.fromisoformat(end).date(),
        granularity,
        AFTER_Q1.date(),
    )
    async with runtime.readers() as session:
        return await read_counts(session, AGENCY, window)


async def test_closing_a_quarter_freezes_its_distinct_officers_and_forgets_them(runtime):
    # Officers 1, 2 and 3 contacted in February; officer 1 twice.
    await _apply(runtime, *(contact(AGENCY, n, FEB + timedelta(days=n)) for n in (1, 1, 2, 3)))
    assert await closing.close_quarters(runtime, AFTER_Q1) == 1
    counts = await _counts(runtime, "2026-01-01", "2026-03-31", Granularity.QUARTER)
    assert counts.counts["officers_supported"]["officers"]["2026-Q1"] == 3
    async with runtime.readers() as session:
        refs = (await session.scalars(select(ContactRow.officer_ref))).all()
        frozen = {
            (row.agency_id, row.period): row.officers
            for row in await session.scalars(select(DistinctRow))
        }
    assert refs == [None] * 4  # no pseudonym is left to tell two contacts apart
    assert frozen[AGENCY, "2026-02"] == frozen["*", "2026-Q1"] == 3
    assert await closing.close_quarters(runtime, AFTER_Q1) == 0  # once only


async def test_a_contact_after_its_quarter_closed_counts_in_the_next_open_month_once(runtime):
    await _apply(runtime, contact(AGENCY, 1, FEB), contact(AGENCY, 2, FEB))
    await closing.close_quarters(runtime, AFTER_Q1)
    late = contact(AGENCY, 1, FEB + timedelta(days=3))  # officer 1 again, logged late
    await _apply(runtime, late)
    quarter = await _counts(runtime, "2026-01-01", "2026-03-31", Granularity.QUARTER)
    april = await _counts(runtime, "2026-04-01", "2026-04-30")
    assert quarter.counts["officers_supported"]["officers"]["2026-Q1"] == 2  # not 3
    assert quarter.counts["contacts_by_channel"]["phone"]["2026-Q1"] == 2
    assert april.counts["contacts_by_channel"]["phone"]["2026-04"] == 1
    assert april.counts["officers_supported"]["officers"]["2026-04"] == 1


def _assigned(supporter: str) -> PeerAssigned:
    return PeerAssigned(
        agency_id=AGENCY,
        occurred_at=FEB,
        assignment_id=uuid.uuid4(),
        incident_id=uuid.uuid4(),
        personnel_id="P1",
        supporter_id=supporter,
        supporter_agency_id=AGENCY,
    )


async def test_the_load_histogram_follows_assignments_and_the_end_of_care(runtime):
    # S1 holds one assignment, S2 two, S3 three, S4 five.
    held = {"S1": 1, "S2": 2, "S3": 3, "S4": 5}
    assigned = [_assigned(s) for s, n in held.items() for _ in range(n)]
    await _apply(runtime, *assigned)
    before = (await _counts(runtime, "2026-02-01", "2026-02-28")).load
    ended = [
        CheckInClosed(
            agency_id=AGENCY,
            occurred_at=FEB,
            checkin_id=uuid.uuid4(),
            outcome=CheckInOutcome.CONTACTED,
            assignment_id=a.assignment_id,
            care_ended=True,
        )
        for a in assigned
        if a.supporter_id == "S2"
    ]
    await _closed(runtime, ended[0])
    after_one = (await _counts(runtime, "2026-02-01", "2026-02-28")).load
    await _closed(runtime, *ended)  # a redelivery with the other: ended once each
    after_both = (await _counts(runtime, "2026-02-01", "2026-02-28")).load
    assert dict(before) == {"1": 1, "2": 1, "3": 1, "4_or_more": 1}
    assert dict(after_one) == {"1": 2, "3": 1, "4_or_more": 1}
    assert dict(after_both) == {"1": 1, "3": 1, "4_or_more": 1}
