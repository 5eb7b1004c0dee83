"""What notify exports for its operators beside the kernel's figures (`shared.figures`;
docs/operations.md, "Figures"):

- `peerline_notifications_pending{channel}` (gauge): deliveries still to send, by the
  channel last tried (`none` before the first try), and coordinators' fan-outs not yet
  expanded (`none`, one each, whatever the number of coordinators). Read by a periodic
  job every `PEERLINE_FIGURES_INTERVAL` seconds from the ledger, as the kernel reads its
  own, so that a scrape never waits on the database.
- `peerline_notifications_failed_total{channel,kind}` (counter): a channel that failed a
  delivery (it refused the message, or every try of it failed) and the delivery moved
  on to the next; and, as channel `none`, a delivery that failed for good for want of a
  channel to try (the roster does not know the recipient, or they have no channel). A
  delivery that fails on all of its channels counts once per channel it tried.
- `peerline_notify_coordinators_unreachable_total{kind}` (counter): a coordinators'
  fan-out (an overdue check-in, an unfilled or escalated assignment) that reached none
  of the agency's coordinators: none was known, or every delivery to them failed.

`kind` is the notification's kind (`services.notify.domain.Kind`). The counters count in
the process that saw it happen: sum them over replicas. Every series exists from the
start at 0, so an alert on `increase()` sees the first one.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select

from shared.service import ServiceRuntime
from shared.vocab import NotificationChannel

from .domain import FOR_COORDINATORS, Kind
from .store import DeliveryRow, FanoutRow, Status

NO_CHANNEL = "none"
CHANNELS = (*(c.value for c in NotificationChannel), NO_CHANNEL)

PENDING = Gauge(
    "peerline_notifications_pending",
    "Notifications waiting to be sent, by the channel last tried (none: not tried yet)",
    ["channel"],
)
FAILED = Counter(
    "peerline_notifications_failed_total",
    "Deliveries a channel failed (none: failed with no channel to try)",
    ["channel", "kind"],
)
UNREACHABLE = Counter(
    "peerline_notify_coordinators_unreachable_total",
    "Coordinators' fan-outs that reached no coordinator (none known, or every delivery failed)",
    ["kind"],
)

for _channel in CHANNELS:
    PENDING.labels(_channel)
    for _kind in Kind:
        FAILED.labels(_channel, _kind.value)
for _kind in FOR_COORDINATORS:
    UNREACHABLE.labels(_kind.value)


def failed(channel: str | None, kind: str) -> None:
    FAILED.labels(channel or NO_CHANNEL, kind).inc()


def unreachable(kind: str) -> None:
    UNREACHABLE.labels(kind).inc()


async def sample(runtime: ServiceRuntime) -> None:
    """Read the pending notifications by channel (a periodic job)."""
    async with runtime.readers() as session:
        by_channel = (
            await session.execute(
                select(DeliveryRow.channel, func.count())
                .where(DeliveryRow.status == Status.PENDING)
                .group_by(DeliveryRow.channel)
            )
        ).all()
        fanouts = await session.scalar(
            select(func.count()).select_from(FanoutRow).where(FanoutRow.expanded_at.is_(None))
        )
    counts = dict.fromkeys(CHANNELS, 0)
    for channel, count in by_channel:
        key = channel or NO_CHANNEL
        counts[key] = counts.get(key, 0) + count
    counts[NO_CHANNEL] += fanouts or 0
    for channel, count in counts.items():
        PENDING.labels(channel).set(count)
