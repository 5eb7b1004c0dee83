"""Notify holds a recipient's own URL to `shared.outbound` before each send, whatever the
roster let through when it was written (DNS can change), and follows no redirect. The
delivery worker on a SQLite file, an in-memory directory, real webhook receivers."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from services.notify.app import MIGRATIONS
from services.notify.delivery import Deliveries
from services.notify.domain import Kind, Recipient
from services.notify.store import DeliveryRow, Status
from shared.outbox import OutboxRow
from tests.notify.conftest import Webhook, serving_webhook
from tests.support.fakes import FakeDirectory, runtime_on_sqlite
from tests.support.running import LOOPBACK_ALLOWED

AGENCY = "harbor"


async def _deliver(tmp_path: Path, recipient: Recipient, **settings) -> tuple[DeliveryRow, list]:
    """One assignment for `recipient`, delivered by as many rounds as it takes to settle
    (or three); the row and the subjects staged."""
    directory = FakeDirectory()
    directory.add_supporter(AGENCY, recipient)
    async with runtime_on_sqlite("notify", MIGRATIONS, tmp_path, **settings) as runtime:
        now = datetime.now(UTC)
        async with runtime.sessions() as session, session.begin():
            session.add(
                DeliveryRow(
                    notification_id=str(uuid.uuid4()),
                    cause_event_id=str(uuid.uuid4()),
                    recipient_id=recipient.recipient_id,
                    agency_id=AGENCY,
                    recipient_agency_id=AGENCY,
                    kind=Kind.ASSIGNMENT,
                    reference=str(uuid.uuid4()),
                    status=Status.PENDING,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        worker = Deliveries(runtime, directory)
        for _ in range(3):
            await worker.round()
        async with runtime.readers() as session:
            row = await session.scalar(select(DeliveryRow))
            staged = list((await session.scalars(select(OutboxRow))).all())
    return row, staged


async def test_a_url_inside_the_network_is_refused_and_the_next_channel_used(tmp_path, webhook):
    recipient = Recipient("S-1", url=webhook.url())  # loopback, and not allowed here
    row, staged = await _deliver(tmp_path, recipient, notify_console=True)
    assert webhook.received == []
    assert (row.status, row.channel) == (Status.SENT, "console")
    failed = [json.loads(r.payload) for r in staged if r.subject.endswith(".failed")]
    assert [f["channel"] for f in failed] == ["webhook"]


async def test_a_redirect_is_not_followed(tmp_path, webhook: Webhook):
    with serving_webhook() as target:
        webhook.redirect_to = f"http://127.0.0.1:{target.port}/elsewhere"
        row, _ = await _deliver(
            tmp_path,
            Recipient("S-1", url=webhook.url()),
            notify_allowed_networks=LOOPBACK_ALLOWED,
            notify_retry_base=0.01,
            notify_retry_max=0.01,
        )
    assert webhook.redirected >= 1 and target.received == []
    assert row.status != Status.SENT and row.last_error == "send_failed"
