"""What check-ins exports for its operators beside the kernel's figures: the offers
whose timers are pending. The service's app built on a SQLite file, its rows written by
the test, read as `/metrics` shows them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.checkins.app import MIGRATIONS, create_app
from services.checkins.domain import Status
from services.checkins.store import CheckInRow
from shared import db
from tests.support.figures import registry, value
from tests.support.running import checkins_settings

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def test_every_open_offer_has_timers_pending(tmp_path):
    settings = checkins_settings(
        "nats://127.0.0.1:1", f"sqlite+aiosqlite:///{tmp_path / 'checkins.db'}", tmp_path
    )
    runtime = create_app(settings).state.runtime
    await db.migrate(runtime.engine, MIGRATIONS)
    assignment = str(uuid.uuid4())
    async with runtime.sessions() as session, session.begin():
        for sequence, status in enumerate(
            [Status.SCHEDULED, Status.DUE, Status.OVERDUE, Status.CLOSED, Status.CLOSED]
        ):
            session.add(
                CheckInRow(
                    checkin_id=str(uuid.uuid4()),
                    assignment_id=assignment,
                    agency_id="harbor",
                    supporter_id="S-1",
                    sequence=sequence,
                    due_at=NOW,
                    window_closes_at=NOW + timedelta(hours=72),
                    expires_at=NOW + timedelta(days=7),
                    status=status.value,
                )
            )
    runtime.figures.start()
    try:
        await runtime.figures.sample()
        pending = value(registry(), "peerline_timers_pending", service="checkins", kind="checkin")
    finally:
        await runtime.figures.stop()
        await runtime.engine.dispose()
    assert pending == 3
