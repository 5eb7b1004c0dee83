"""What a use case needs of the world, for the unit tier: a service's runtime on a SQLite
file that never dials the bus, a clock the test sets, and the roster as notify's
delivery worker sees it, in memory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

from services.notify.directory import LookupFailed
from services.notify.domain import Recipient
from shared import db
from shared.service import ServiceRuntime
from shared.settings import Settings
from tests.conftest import JWT_SECRET


@contextlib.asynccontextmanager
async def runtime_on_sqlite(
    service: str, migrations: Path, data_dir: Path, **settings: object
) -> AsyncIterator[ServiceRuntime]:
    """`service`'s runtime on a migrated SQLite file in `data_dir`: its sessions and
    outbox work, its relay and bus are never started."""
    runtime = ServiceRuntime(
        Settings(
            service=service,
            data_dir=data_dir,
            jwt_secret=JWT_SECRET,
            nats_url="nats://127.0.0.1:1",  # never dialled
            **settings,
        ),
        migrations=migrations,
    )
    await db.migrate(runtime.engine, migrations)
    try:
        yield runtime
    finally:
        await runtime.engine.dispose()


class SetClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class FakeDirectory:
    """The roster's recipients by agency; `down` makes every look-up fail as an
    unreachable roster would."""

    def __init__(self) -> None:
        self.supporters: dict[tuple[str, str], Recipient] = {}
        self.coordinators_of: dict[str, list[Recipient]] = {}
        self.down = False

    def add_supporter(self, agency_id: str, recipient: Recipient) -> None:
        self.supporters[agency_id, recipient.recipient_id] = recipient

    async def supporter(self, agency_id: str, supporter_id: str) -> Recipient | None:
        self._answer()
        return self.supporters.get((agency_id, supporter_id))

    async def coordinators(self, agency_id: str) -> list[Recipient]:
        self._answer()
        return list(self.coordinators_of.get(agency_id, []))

    def _answer(self) -> None:
        if self.down:
            raise LookupFailed("unreachable")
