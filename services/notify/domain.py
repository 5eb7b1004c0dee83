"""What the notify service decides, without any I/O: which message a cause event asks
for and to whom, what the message says, the order of a recipient's channels, when
quiet hours or the rate limit hold a message back, and how long to wait before a retry.

Messages name no officer and no incident detail (rule 4): each says what kind
of thing happened, gives a short reference and a link to open it in Peerline, and
nothing else; an assignment to acknowledge also says by when, in the recipient's own
time zone. The templates below are the only text that leaves the service.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from shared import outbound
from shared.events import (
    AssignmentEscalated,
    AssignmentReassigned,
    AssignmentUnfilled,
    CheckInDue,
    CheckInOverdue,
    Event,
    PeerAssigned,
    TrainingExpiring,
)
from shared.tokens import Principal, Role
from shared.vocab import AssignmentReason, Category, NotificationChannel

UTC_ZONE = ZoneInfo("UTC")


class Kind(enum.StrEnum):
    ASSIGNMENT = "assignment"  # a new assignment (or one moved to them), to the supporter
    REQUEST = "request"  # an officer asked for a peer (or it moved to them), to the supporter
    CHECKIN_DUE = "checkin_due"  # an offer is due, to the supporter
    CHECKIN_OVERDUE = "checkin_overdue"  # an offer's window closed, to the coordinators
    UNFILLED = "assignment_unfilled"  # no supporter could be assigned, to the coordinators
    ESCALATED = "assignment_escalated"  # nobody acknowledged an assignment, to the coordinators
    REQUEST_ESCALATED = "request_escalated"  # nobody took a request, to the coordinators
    TRAINING = "training_expiring"  # training to renew, to the supporter


# What goes to the agency's coordinators rather than to a supporter.
FOR_COORDINATORS = frozenset(
    {Kind.CHECKIN_OVERDUE, Kind.UNFILLED, Kind.ESCALATED, Kind.REQUEST_ESCALATED}
)

# What gives its recipient an assignment, made or moved to them: the ledger reads the
# supporter's own agency (for the assignment's reminders) and the assignment's urgency
# (when it moves or is escalated) from their rows.
ASSIGNED = (Kind.ASSIGNMENT, Kind.REQUEST)

# A new assignment after these is never held back by quiet hours or the rate limit: the
# first hours matter most, and the supporter agreed to be reached for them.
URGENT_CATEGORIES = frozenset({Category.OFFICER_INVOLVED_SHOOTING, Category.LINE_OF_DUTY_DEATH})

# Neither is an officer's request, to its supporter or, when nobody took it, to the
# coordinators: an officer who asked is waiting now, whatever the hour (decision 72).
URGENT_KINDS = frozenset({Kind.REQUEST, Kind.REQUEST_ESCALATED})


@dataclass(frozen=True)
class Notice:
    """What one cause event asks for: a message of `kind` about `reference`, to the
    supporter `supporter_id`, or to the agency's coordinators when that is None."""

    kind: Kind
    reference: uuid.UUID  # what the link opens
    supporter_id: str | None
    recipient_agency_id: str  # the agency the roster look-up is made for
    urgent: bool = False
    acknowledge_by: datetime | None = None  # when the supporter must have taken it
    # About an assignment made before (moved, escalated): urgent too when the message
    # of the assignment itself was, though this event no longer says its category.
    follows_assignment: bool = False


def notice_of(event: Event) -> Notice:
    """The notice a trigger event asks for."""
    match event:
        case PeerAssigned():
            requested = AssignmentReason.OFFICER_REQUEST in event.reasons
            kind = Kind.REQUEST if requested else Kind.ASSIGNMENT
            return Notice(
                kind,
                event.assignment_id,
                event.supporter_id,
                event.supporter_agency_id,
                urgent=kind in URGENT_KINDS or event.category in URGENT_CATEGORIES,
                acknowledge_by=event.acknowledge_by,
            )
        case AssignmentReassigned():
            kind = Kind.REQUEST if event.for_request else Kind.ASSIGNMENT
            return Notice(
                kind,
                event.assignment_id,
                event.supporter_id,
                event.supporter_agency_id,
                urgent=kind in URGENT_KINDS,
                acknowledge_by=event.acknowledge_by,
                follows_assignment=True,
            )
        case AssignmentEscalated():
            kind = Kind.REQUEST_ESCALATED if event.for_request else Kind.ESCALATED
            return Notice(
                kind,
                event.assignment_id,
                None,
                event.agency_id,
                urgent=kind in URGENT_KINDS,
                follows_assignment=True,
            )
        case CheckInDue():
            return Notice(
                Kind.CHECKIN_DUE, event.assignment_id, event.supporter_id, event.agency_id
            )
        case CheckInOverdue():
            return Notice(Kind.CHECKIN_OVERDUE, event.checkin_id, None, event.agency_id)
        case AssignmentUnfilled():
            return Notice(Kind.UNFILLED, event.incident_id, None, event.agency_id)
        case TrainingExpiring():
            return Notice(Kind.TRAINING, event.event_id, event.supporter_id, event.agency_id)
    raise TypeError(f"no notice for {type(event).__name__}")


# Content.


@dataclass(frozen=True)
class Message:
    title: str
    body: str


# Per kind: the subject line, the one sentence of the message, and the portal page the
# link opens.
TEMPLATES: dict[Kind, tuple[str, str, str]] = {
    Kind.ASSIGNMENT: (
        "New peer support assignment",
        "You have a new peer support assignment.",
        "/assignments/{reference}",
    ),
    Kind.REQUEST: (
        "An officer asked for a peer",
        "An officer asked for a peer and is waiting: please open it and say when you will "
        "reach them.",
        "/assignments/{reference}",
    ),
    Kind.CHECKIN_DUE: (
        "Check-in offer due",
        "A check-in offer for one of your assignments is due now.",
        "/assignments/{reference}",
    ),
    Kind.CHECKIN_OVERDUE: (
        "Check-in offer overdue",
        "A check-in offer is overdue: its window closed without a logged contact.",
        "/checkins/{reference}",
    ),
    Kind.UNFILLED: (
        "Assignment unfilled",
        "An officer could not be matched with a peer supporter and needs one.",
        "/incidents/{reference}",
    ),
    Kind.ESCALATED: (
        "Assignment waiting",
        "An assignment is waiting: no supporter acknowledged it.",
        "/waiting",
    ),
    Kind.REQUEST_ESCALATED: (
        "Request for a peer waiting",
        "A request for a peer is waiting: no supporter has taken it yet.",
        "/waiting",
    ),
    Kind.TRAINING: (
        "Training to renew",
        "Some of your peer support training or certification needs renewing.",
        "/training",
    ),
}


# A message that asks nothing of its reader: how `peerline notify test` proves a channel.
TEST_MESSAGE = Message(
    "Peerline: test message",
    "This is a test from Peerline: its notifications reach you here. Nothing to do.\n",
)


@dataclass(frozen=True)
class Channels:
    """What the service can deliver over besides a recipient's own notification URL."""

    email: bool  # an SMTP relay
    sms: bool  # an SMS gateway
    console: bool  # the service's log (the local stack)

    @property
    def fallback(self) -> bool:
        """Whether a recipient without a URL of their own can be reached at all."""
        return self.email or self.sms or self.console

    def warning(self) -> str | None:
        if self.fallback:
            return None
        return (
            "no SMTP relay, no SMS gateway and no console: only recipients with a "
            "notification URL of their own can be reached; every other notification "
            "fails as no_channel. Set PEERLINE_SMTP_URL or PEERLINE_SMS_URL."
        )


def channels_of(*, smtp_url: str | None, sms_url: str | None, console: bool) -> Channels:
    return Channels(email=bool(smtp_url), sms=bool(sms_url), console=console)


def short_reference(reference: uuid.UUID) -> str:
    """What a person reads out or types: the first 8 hex digits, upper case."""
    return reference.hex[:8].upper()


def message(
    kind: Kind,
    reference: uuid.UUID,
    portal_url: str,
    *,
    acknowledge_by: datetime | None = None,
    now: datetime | None = None,
    zone: ZoneInfo = UTC_ZONE,
) -> Message:
    """The message of `kind` about `reference`. An assignment with a deadline also asks
    to acknowledge it, by when in `zone` (the recipient's) while that is after `now`."""
    title, sentence, page = TEMPLATES[kind]
    if kind is Kind.ASSIGNMENT and acknowledge_by is not None:
        sentence = f"{sentence} {acknowledge(acknowledge_by, now, zone)}"
    link = portal_url.rstrip("/") + page.format(reference=reference)
    ref = short_reference(reference)
    body = f"{sentence}\n\nReference: {ref}\nOpen it in Peerline: {link}\n"
    return Message(f"Peerline: {title} ({ref})", body)


def acknowledge(deadline: datetime, now: datetime | None, zone: ZoneInfo) -> str:
    """The sentence asking a supporter to acknowledge an assignment: by the deadline's
    wall-clock time in their zone (and its date when not today there), or, once it has
    passed (a message held back or retried), now."""
    if now is not None and deadline <= now:
        return "Please acknowledge it in Peerline now."
    local = deadline.astimezone(zone)
    when = f"{local:%H:%M} {local.tzname() or zone.key}"
    if now is None or local.date() != now.astimezone(zone).date():
        when += f" on {local.day} {local:%B}"
    return f"Please acknowledge it in Peerline by {when}."


# Recipients and their channels.


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time


@dataclass(frozen=True)
class Recipient:
    """A recipient as the roster describes them; contact details live only in memory."""

    recipient_id: str
    email: str | None = None
    phone: str | None = None
    url: str | None = None  # any apprise URL
    timezone: str = "UTC"
    quiet_hours: QuietHours | None = None


@dataclass(frozen=True)
class Route:
    """One way to reach a recipient: its channel, and the apprise URL (None: the console).
    `from_record`: the URL is the recipient's own, held to `shared.outbound` before each
    send; the operator's relays are not."""

    channel: NotificationChannel
    url: str | None
    from_record: bool = False


# The hosted gateways, and SMSEagle, which a region may run itself as its relay.
SMS_SCHEMES = outbound.SMS_GATEWAYS | {"smseagle", "smseagles"}


def channel_of(url: str) -> NotificationChannel:
    """The channel an apprise URL reaches, by its scheme: email, webhook, an SMS gateway,
    or else a chat service (Slack, Teams, Matrix, ...)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in outbound.MAIL_SCHEMES:
        return NotificationChannel.EMAIL
    if scheme in outbound.WEBHOOK_SCHEMES:
        return NotificationChannel.WEBHOOK
    if scheme in SMS_SCHEMES:
        return NotificationChannel.SMS
    return NotificationChannel.CHAT


def routes(
    recipient: Recipient, *, smtp_url: str | None, sms_url: str | None, console: bool
) -> list[Route]:
    """The recipient's channels, in the order they are tried (decision 26): their own
    apprise URL, their email address through the SMTP relay, their phone through the
    SMS gateway, then the console when it is enabled."""
    found = []
    if recipient.url:
        # Never a redirect: it could lead to an address the check would refuse.
        own = _with_query(recipient.url, redirect="no")
        found.append(Route(channel_of(recipient.url), own, from_record=True))
    if recipient.email and smtp_url:
        found.append(Route(NotificationChannel.EMAIL, _with_query(smtp_url, to=recipient.email)))
    if recipient.phone and sms_url:
        number = quote(recipient.phone, safe="+")
        found.append(Route(NotificationChannel.SMS, sms_url.replace("{phone}", number)))
    if console:
        found.append(Route(NotificationChannel.CONSOLE, None))
    return found


def _with_query(url: str, **params: str) -> str:
    """`url` with `params` in its query, replacing any of the same names."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode([*kept, *params.items()])))


# When to send.


def zone_of(name: str) -> ZoneInfo:
    """The recipient's time zone; UTC when the roster names none we know."""
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return UTC_ZONE


def quiet_until(now: datetime, quiet: QuietHours | None, zone: ZoneInfo) -> datetime | None:
    """When the recipient's quiet hours end, if `now` falls within them; else None.
    Quiet hours are local wall-clock times and may run over midnight (22:00-07:00)."""
    if quiet is None or quiet.start == quiet.end:
        return None
    local = now.astimezone(zone)
    at = local.time().replace(tzinfo=None)
    if quiet.start < quiet.end:
        inside = quiet.start <= at < quiet.end
    else:
        inside = at >= quiet.start or at < quiet.end
    if not inside:
        return None
    end_day = local.date() if at < quiet.end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, quiet.end, tzinfo=zone).astimezone(UTC)


def rate_free_at(
    now: datetime, recent: list[datetime], *, limit: int, window: timedelta
) -> datetime | None:
    """When the recipient may have another message, if `recent` (when they were sent
    messages) already holds `limit` within the window before `now`; else None."""
    within = sorted(at for at in recent if at > now - window)
    if len(within) < limit:
        return None
    return within[-limit] + window


def retry_delay(attempts: int, *, base: float, cap: float) -> timedelta:
    """The wait after the `attempts`-th failed try of a channel: exponential, capped."""
    return timedelta(seconds=min(base * 2 ** (attempts - 1), cap))


def shows_delivery_details(caller: Principal, recipient_agency_id: str) -> bool:
    """Whether `caller` sees how a delivery went beyond its status (the channel, a hold
    and until when, the error, the attempts). A coordinator sees every notification
    about their own agency's officers, but of a supporter from another agency (the
    regional pool) only whether it reached them: when and why that supporter's messages
    wait is the other agency's business (decision 64). Operators see all."""
    return caller.role is not Role.COORDINATOR or recipient_agency_id == caller.agency
