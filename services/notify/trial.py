"""`peerline notify test`: one test message to a supporter, over the channels a delivery
would use and in the same order, until one takes it. An operator proves the relays and
the supporter's details before anyone depends on them; what it says names channels and
outcomes, never an address."""

from __future__ import annotations

from dataclasses import dataclass

from shared import outbound
from shared.errors import NotFound
from shared.settings import Settings
from shared.vocab import NotificationChannel

from . import channels
from .channels import Outcome
from .directory import Directory
from .domain import TEST_MESSAGE, routes


@dataclass(frozen=True)
class Tried:
    channel: NotificationChannel
    outcome: Outcome


async def send_test(
    settings: Settings, directory: Directory, agency_id: str, supporter_id: str
) -> list[Tried]:
    """Each channel tried, in order, up to the first that took the message; none when
    the supporter has no channel this service can use. `NotFound` if the roster knows
    no such supporter in the agency; `LookupFailed` if it cannot answer."""
    recipient = await directory.supporter(agency_id, supporter_id)
    if recipient is None:
        raise NotFound("The roster knows no such supporter in this agency.")
    allowed = outbound.networks(settings.notify_allowed_networks)
    tried: list[Tried] = []
    found = routes(recipient, smtp_url=settings.smtp_url, sms_url=settings.sms_url, console=False)
    for route in found:
        outcome = await channels.send(
            route, TEST_MESSAGE, kind="test", reference="TEST", allowed=allowed
        )
        tried.append(Tried(route.channel, outcome))
        if outcome is Outcome.SENT:
            break
    return tried
