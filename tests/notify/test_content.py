"""Every message says what happened, gives a reference and a link, and nothing else:
no officer, no incident detail (rule 4). Every template is sent over email and
a webhook, to supporters and to the agency's coordinators, and no delivered byte holds
the canary officer's identifiers or the incident's details; nor does the service log
hold a contact detail (rule 10)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from shared.events import NotificationSent
from shared.streams import EVENTS
from tests.notify.scenario import (
    CATEGORY,
    EXTERNAL_ID,
    OFFICER,
    OFFICER_NAME,
    add_coordinator,
    add_supporter,
    assigned,
    due,
    escalated,
    notify_settings,
    overdue,
    reassigned,
    requested,
    running,
    to_acknowledge,
    training,
    unfilled,
)
from tests.support.bus import EventLog, publish
from tests.support.waiting import await_until

PORTAL = "https://peerline.example.org"


async def test_no_message_names_the_officer_or_the_incident(
    nats_url, database_url, tmp_path, agency, roster, smtp, webhook, service_log
):
    await add_supporter(roster, agency, "S-MAIL", {"email": "s-mail@example.org"})
    await add_supporter(roster, agency, "S-HOOK", {"url": webhook.url("s")})
    await add_coordinator(roster, agency, "C-MAIL", {"email": "c-mail@example.org"})
    await add_coordinator(roster, agency, "C-HOOK", {"url": webhook.url("c")})
    settings = notify_settings(
        nats_url, database_url, tmp_path / "notify", roster.url, smtp_url=smtp.url()
    )
    events = [
        event
        for supporter in ("S-MAIL", "S-HOOK")
        for event in (
            to_acknowledge(assigned(agency, supporter)),
            due(agency, supporter),
            requested(agency, supporter),
        )
    ]
    events += [training(agency, "S-MAIL"), training(agency, "S-HOOK")]
    events += [reassigned(agency, "S-MAIL"), reassigned(agency, "S-HOOK", for_request=True)]
    # Each to both coordinators.
    events += [overdue(agency, "S-MAIL"), unfilled(agency)]
    events += [escalated(agency), escalated(agency, for_request=True)]
    expected = 18
    async with (
        running(settings),
        EventLog(nats_url, f"ps.{agency}.notification.*", EVENTS.name) as log,
    ):
        await publish(nats_url, *events)
        await log.wait_for(NotificationSent, count=expected, timeout=20)
        await await_until(lambda: len(smtp.mails) + len(webhook.received) == expected)
    delivered = [mail.raw for mail in smtp.mails] + webhook.raw
    readable = [mail.text for mail in smtp.mails] + [
        f"{post['title']}\n{post['message']}" for post in webhook.received
    ]
    officer = [OFFICER, OFFICER_NAME, EXTERNAL_ID]
    incident = [CATEGORY.value, "shooting", "Shooting"]
    for text in (*readable, *(raw.decode("utf-8", "replace") for raw in delivered)):
        for secret in (*officer, *incident):
            assert secret not in text
    assert len(readable) == expected
    for kind in (
        "new peer support assignment",
        "Please acknowledge it in Peerline by",
        "An officer asked for a peer and is waiting",
        "is due now",
        "is overdue",
        "needs one",
        "no supporter acknowledged it",
        "no supporter has taken it yet",
        "needs renewing",
    ):  # every template went out
        assert any(kind in text for text in readable), kind
    assert all(f"{PORTAL}/" in text for text in readable)
    logged = "\n".join(service_log)
    assert "notify connected to the bus" in logged  # the collector hears the service
    for secret in ("s-mail@example.org", "c-mail@example.org", f":{webhook.port}", OFFICER):
        assert secret not in logged


@pytest.fixture
def service_log() -> Iterator[list[str]]:
    """Every line a service process would log (its handler sits on the root logger, as
    `shared.logging` puts it, at INFO), less the test's own SMTP server's."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if not record.name.startswith("mail.log"):
                lines.append(self.format(record))

    root = logging.getLogger()
    handler, level = Collect(logging.INFO), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lines
    root.removeHandler(handler)
    root.setLevel(level)
