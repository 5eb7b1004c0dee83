"""One short line per notable event, for the `peerline up` terminal: a newcomer sees
the chain move (incident reported, peer assigned, check-in due, notification sent)
without a second terminal. A line names the agency, codes and short references only,
never an officer (rule 10: the terminal is telemetry too)."""

from __future__ import annotations

from nats.aio.msg import Msg

from shared.cloudevents import decode
from shared.events import (
    AssignmentUnfilled,
    CheckInClosed,
    CheckInDue,
    CheckInOverdue,
    CheckInScheduled,
    ContactLogged,
    Event,
    IncidentReported,
    IncidentRetracted,
    IncidentUpdated,
    IntakeRejected,
    NotificationFailed,
    NotificationSent,
    PeerAssigned,
    ReferralMade,
)


def _ref(value: object) -> str:
    return str(value).replace("-", "")[:8].upper()


def headline(event: Event) -> str | None:
    """The line for `event`, or None for events a newcomer need not follow."""
    a = event.agency_id
    match event:
        case IncidentReported():
            n = len(event.involved)
            return (
                f"incident reported   {a}  {event.category}, {n} officer{'s' * (n != 1)} involved"
            )
        case IncidentUpdated():
            return f"incident updated    {a}  {len(event.involved)} involved now"
        case IncidentRetracted():
            return f"incident retracted  {a}  {event.reason}"
        case IntakeRejected():
            return f"report rejected     {a}  {len(event.errors)} field(s) at fault"
        case PeerAssigned():
            return f"peer assigned       {a}  assignment {_ref(event.assignment_id)}"
        case AssignmentUnfilled():
            return f"no peer found       {a}  {event.reason}: the coordinator is told"
        case CheckInScheduled():
            when = event.due_at.strftime("%d %b %H:%M UTC")
            return f"check-in scheduled  {a}  assignment {_ref(event.assignment_id)}, due {when}"
        case CheckInDue():
            return f"check-in due        {a}  assignment {_ref(event.assignment_id)}"
        case CheckInOverdue():
            return f"check-in overdue    {a}  assignment {_ref(event.assignment_id)}"
        case CheckInClosed():
            return f"check-in closed     {a}  {event.outcome}"
        case ContactLogged():
            return f"contact logged      {a}  {event.channel}, {event.outcome}"
        case ReferralMade():
            return f"referral made       {a}  {event.resource_type}, {event.urgency}"
        case NotificationSent():
            return f"notification sent   {a}  by {event.channel}"
        case NotificationFailed():
            return f"notification failed {a}  after {event.attempts} tries"
    return None


def headline_of(msg: Msg) -> str | None:
    """The line for a message of the bus; None for timers' schedules, other events and
    anything that is not a valid Peerline event."""
    headers = msg.headers or {}
    if "Nats-Schedule" in headers:
        return None
    try:
        return headline(decode(headers, msg.data))
    except ValueError:
        return None
