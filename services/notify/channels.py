"""Sending one message over one route: apprise for every real channel, the service log
for the console.

Apprise sends (its blocking clients run in its own thread pool behind
`async_notify`) and says only whether it worked, so failures are classified as far as
that allows (decision 27):

- the URL does not load (unknown scheme, missing parts), or a recipient's own URL
  reaches an address it may not (`shared.outbound`): `REFUSED`, a permanent failure of
  this channel, whatever is tried again;
- the send failed or timed out (refused connection, HTTP 5xx or 4xx, SMTP error):
  `RETRY`, a transient failure; after `notify_attempts_per_channel` of them the channel
  counts as failed.

Apprise logs what it does, and its lines can name a recipient's address or host, so its
logger is cut off from the service's log here (rule 10).
"""

from __future__ import annotations

import enum
import logging

import apprise

from shared import outbound

from .domain import Message, Route

log = logging.getLogger("peerline.notify.console")

SEND_TIMEOUT = 20.0  # seconds for one send, well inside the delivery lease
NO_REDIRECTS = apprise.AppriseAsset(http_redirects=False)

_apprise_log = logging.getLogger("apprise")
_apprise_log.propagate = False
_apprise_log.addHandler(logging.NullHandler())


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    REFUSED = "refused"


async def send(
    route: Route,
    message: Message,
    *,
    kind: str,
    reference: str,
    allowed: tuple[outbound.IpNetwork, ...] = (),
) -> Outcome:
    """Send `message` over `route`; a recipient's own URL only if it still reaches an
    address it may (`shared.outbound`, networks `allowed`), never following a redirect."""
    if route.url is None:
        # The console channel: what happened and the reference, never the message.
        log.info("notification %s, reference %s", kind, reference)
        return Outcome.SENT
    if route.from_record:
        try:
            await outbound.check(route.url, allowed)
        except outbound.Refused as refused:
            log.warning("%s %s: the recipient's URL is refused (%s)", kind, reference, refused)
            return Outcome.REFUSED
    notifier = apprise.Apprise(asset=NO_REDIRECTS)
    if not notifier.add(route.url):
        return Outcome.REFUSED
    with await notifier.async_notify(
        body=message.body, title=message.title, timeout=SEND_TIMEOUT
    ) as result:  # releases the logs apprise captured
        return Outcome.SENT if result else Outcome.RETRY
