"""`GET /v1/notifications`: delivery status for operators and coordinators, a
coordinator's own agency only, never a message body or a contact detail."""

from __future__ import annotations

import httpx

from shared.events import NotificationSent
from shared.streams import EVENTS
from shared.tokens import Role
from shared.vocab import Category
from tests.conftest import bearer
from tests.notify.scenario import (
    add_supporter,
    assigned,
    notify_settings,
    quiet_now,
    running,
    status,
)
from tests.support.bus import EventLog, publish
from tests.support.waiting import await_until

OTHER = "OTHER01"


async def test_status_by_role_and_agency(nats_url, database_url, tmp_path, agency, roster, smtp):
    await add_supporter(roster, agency, "S-1", {"email": "dana@example.org"})
    await add_supporter(roster, OTHER, "S-9", {"email": "lee@example.org"})
    settings = notify_settings(
        nats_url, database_url, tmp_path / "notify", roster.url, smtp_url=smtp.url()
    )
    async with (
        running(settings) as [app],
        EventLog(nats_url, "ps.*.notification.sent", EVENTS.name) as log,
    ):
        await publish(nats_url, assigned(agency, "S-1"), assigned(OTHER, "S-9"))
        await log.wait_for(NotificationSent, count=2)
        own = await status(app, agency)
        sent = await status(app, agency, status="sent")
        pending = await status(app, agency, status="pending")
        everyone = await status(app, agency, Role.OPS)
        one_agency = await status(app, agency, Role.OPS, agency=OTHER)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notify") as client:
            answers = {
                role: await client.get("/v1/notifications", headers=bearer(agency, role))
                for role in (Role.SUPPORTER, Role.LEADERSHIP, Role.INGEST, Role.SERVICE)
            }
            walled = await client.get(
                "/v1/notifications",
                params={"agency": OTHER},
                headers=bearer(agency, Role.COORDINATOR),
            )
            anonymous = await client.get("/v1/notifications")
            invalid = await client.get(
                "/v1/notifications",
                params={"status": "bogus"},
                headers=bearer(agency, Role.OPS),
            )
    assert [row["recipient_id"] for row in own] == ["S-1"]
    assert sent == own and pending == []
    assert {row["agency_id"] for row in everyone} == {agency, OTHER}
    assert [row["recipient_id"] for row in one_agency] == ["S-9"]
    assert {answer.status_code for answer in answers.values()} == {403}
    assert walled.status_code == 403
    assert anonymous.status_code == 401
    assert invalid.status_code == 422
    shown = str(everyone)
    for secret in ("dana@example.org", "lee@example.org", "assignment.", "Open it"):
        assert secret not in shown


async def test_a_pool_supporters_delivery_shows_the_officers_agency_only_its_status(
    nats_url, database_url, tmp_path, agency, roster, smtp
):
    """A supporter of another agency serves this agency's officer and is in quiet hours:
    this agency's coordinator sees that the message waits, not why or until when; the
    supporter's own coordinator does not see this agency's notification at all; an
    operator sees everything (decision 64)."""
    quiet, _ = quiet_now("UTC")
    await add_supporter(
        roster, OTHER, "S-9", {"email": "lee@example.org"}, timezone="UTC", quiet_hours=quiet
    )
    settings = notify_settings(
        nats_url, database_url, tmp_path / "notify", roster.url, smtp_url=smtp.url()
    )
    pooled = assigned(agency, "S-9", Category.FATAL_COLLISION).model_copy(
        update={"supporter_agency_id": OTHER}
    )
    async with running(settings) as [app]:
        await publish(nats_url, pooled)

        async def held():
            rows = await status(app, agency, Role.OPS)
            return rows if rows and rows[0]["held_for"] else None

        [operator_view] = await await_until(held, what="the delivery held")
        [own] = await status(app, agency)
        theirs = await status(app, OTHER)
    assert operator_view["held_for"] == "quiet_hours" and operator_view["next_attempt_at"]
    assert (own["recipient_id"], own["recipient_agency_id"], own["status"]) == (
        "S-9",
        OTHER,
        "pending",
    )
    assert [own[k] for k in ("held_for", "next_attempt_at", "channel", "attempts")] == [None] * 4
    assert theirs == []
