"""What the roster exports for its operators beside the kernel's figures: the
acknowledgment deadlines pending and the age of its matching index. The roster's app
built on a SQLite file, its rows written by the test, read as `/metrics` shows them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from services.roster.app import MIGRATIONS, create_app
from services.roster.assigning import Assigner
from services.roster.assignment_store import MatchRow, Outcome
from shared import db
from shared.service import ServiceRuntime
from tests.support.figures import registry, value
from tests.support.running import roster_settings

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
async def runtime(tmp_path) -> AsyncIterator[ServiceRuntime]:
    settings = roster_settings(
        "nats://127.0.0.1:1", f"sqlite+aiosqlite:///{tmp_path / 'roster.db'}", tmp_path
    )
    runtime = create_app(settings).state.runtime
    await db.migrate(runtime.engine, MIGRATIONS)
    runtime.figures.start()
    try:
        yield runtime
    finally:
        await runtime.figures.stop()
        await runtime.engine.dispose()


async def _match(runtime: ServiceRuntime, outcome: Outcome, **more) -> None:
    async with runtime.sessions() as session, session.begin():
        session.add(
            MatchRow(
                incident_id=str(uuid.uuid4()),
                personnel_id="B100",
                agency_id="harbor",
                outcome=outcome.value,
                assignment_id=str(uuid.uuid4()),
                decided_at=NOW,
                **more,
            )
        )


async def test_deadlines_pending_are_assignments_waiting_for_an_answer(runtime):
    deadline = NOW + timedelta(hours=4)
    await _match(runtime, Outcome.ASSIGNED, acknowledge_by=deadline)  # waiting
    await _match(runtime, Outcome.ASSIGNED, acknowledge_by=deadline)  # waiting
    await _match(runtime, Outcome.ASSIGNED, acknowledge_by=deadline, acknowledged_at=NOW)
    await _match(runtime, Outcome.ASSIGNED, acknowledge_by=deadline, escalated_at=NOW)
    await _match(runtime, Outcome.CLOSED, acknowledge_by=deadline)
    await _match(runtime, Outcome.UNFILLED)

    await runtime.figures.sample()

    pending = value(registry(), "peerline_timers_pending", service="roster", kind="acknowledgment")
    assert pending == 2


async def test_the_index_age_grows_until_the_index_is_brought_up_to_date(runtime):
    assigner = runtime.provided(Assigner)
    await assigner.prepare(runtime.readers)
    await asyncio.sleep(0.3)
    assert value(registry(), "peerline_roster_index_age_seconds") >= 0.3

    await assigner.prepare(runtime.readers)
    assert value(registry(), "peerline_roster_index_age_seconds") < 0.3
