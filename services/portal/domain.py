"""The portal's rules, with no I/O: who a signed-in person is, what each role is
offered, when a session has ended, where a sign-in may send the browser, and the words
people see for the contract's codes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from shared.ids import AGENCY_ID_PATTERN
from shared.tokens import Role
from shared.vocab import (
    Channel,
    ContactOutcome,
    DurationBucket,
    InitiatedBy,
    ResourceType,
    Urgency,
)

# The people the portal serves. Ingest (dispatch systems), ops and services have
# their own tools and never sign in here.
PORTAL_ROLES = (Role.OFFICER, Role.SUPPORTER, Role.COORDINATOR, Role.LEADERSHIP, Role.REGIONAL)
LEADERS = (Role.LEADERSHIP, Role.REGIONAL)

MAX_SUBJECT = 128
MAX_NAME = 128


class NotAPortalUser(ValueError):
    """The identity the provider vouched for cannot use Peerline; the message says why
    without echoing the claims."""


@dataclass(frozen=True)
class Person:
    agency: str
    role: Role
    subject: str  # a supporter's supporter_id, an officer's personnel_id
    name: str | None = None

    @property
    def is_leader(self) -> bool:
        return self.role in LEADERS


def person_from_claims(
    claims: dict, *, agency_claim: str, role_claim: str, subject_claim: str, name_claim: str
) -> Person:
    """The Peerline person an identity provider's claims name, by the configured claims."""
    agency, role, subject = (claims.get(c) for c in (agency_claim, role_claim, subject_claim))
    if not isinstance(agency, str) or not AGENCY_ID_PATTERN.fullmatch(agency):
        raise NotAPortalUser(f"the `{agency_claim}` claim holds no agency id")
    if role not in {r.value for r in PORTAL_ROLES}:
        raise NotAPortalUser(f"the `{role_claim}` claim holds no role of the portal")
    if (
        not isinstance(subject, str)
        or not 0 < len(subject) <= MAX_SUBJECT
        or subject != subject.strip()
    ):
        raise NotAPortalUser(f"the `{subject_claim}` claim holds no Peerline id")
    name = claims.get(name_claim)
    name = name[:MAX_NAME] if isinstance(name, str) and name.strip() else None
    return Person(agency=agency, role=Role(role), subject=subject, name=name)


def idle_expired(last_seen: datetime, now: datetime, idle_minutes: int) -> bool:
    return now - last_seen >= timedelta(minutes=idle_minutes)


def safe_next(target: str | None, default: str = "/") -> str:
    """A page of this portal to return to after sign-in: a local path only, so a link
    cannot use the sign-in to send someone to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


@dataclass(frozen=True)
class Page:
    path: str
    label: str


NAVIGATION: dict[Role, tuple[Page, ...]] = {
    Role.OFFICER: (
        Page("/peers", "Reach a peer"),
        Page("/resources", "Resources"),
        Page("/preferences", "My preferences"),
        Page("/feedback", "Rate the program"),
    ),
    Role.SUPPORTER: (
        Page("/assignments", "My assignments"),
        Page("/me", "On call and training"),
        Page("/resources", "Resources"),
    ),
    Role.COORDINATOR: (
        Page("/queue", "Needs attention"),
        Page("/roster", "Roster"),
        Page("/resources", "Resources"),
        Page("/policy", "Check-in policy"),
        Page("/feedback-codes", "Feedback codes"),
        Page("/intake", "Intake settings"),
        Page("/notifications", "Notifications"),
    ),
    Role.LEADERSHIP: (Page("/dashboard", "Dashboard"), Page("/report", "Quarterly report")),
    Role.REGIONAL: (Page("/dashboard", "Dashboard"), Page("/report", "Quarterly report")),
}


def home_of(role: Role) -> str:
    return NAVIGATION[role][0].path


@dataclass(frozen=True)
class CrisisLine:
    name: str
    number: str

    @property
    def tel(self) -> str:
        return "tel:" + "".join(c for c in self.number if c.isdigit() or c == "+")


LIFELINE = CrisisLine("988 Suicide & Crisis Lifeline", "988")


def crisis_lines(configured: str) -> list[CrisisLine]:
    """988 first, then the region's own lines from `Name=number;Name=number`."""
    lines = [LIFELINE]
    for item in configured.split(";"):
        name, _, number = item.partition("=")
        if name.strip() and any(c.isdigit() for c in number):
            lines.append(CrisisLine(name.strip(), number.strip()))
    return lines


# The words people see for the contract's codes, in the order the forms offer them.
CHANNELS = {
    Channel.PHONE: "Phone",
    Channel.IN_PERSON: "In person",
    Channel.TEXT: "Text",
    Channel.VIDEO: "Video",
}
DURATIONS = {
    DurationBucket.LT_15M: "Under 15 min",
    DurationBucket.M15_30: "15–30 min",
    DurationBucket.M30_60: "30–60 min",
    DurationBucket.GT_60M: "Over an hour",
}
OUTCOMES = {
    ContactOutcome.SUPPORT_PROVIDED: "Support given",
    ContactOutcome.FOLLOW_UP_PLANNED: "Follow-up planned",
    ContactOutcome.UNREACHABLE: "Could not reach them",
    ContactOutcome.DECLINED: "They declined",
}
INITIATORS = {
    InitiatedBy.SCHEDULED_CHECKIN: "Scheduled check-in",
    InitiatedBy.PEER_OUTREACH: "I reached out",
    InitiatedBy.SELF_REFERRAL: "They reached out",
    InitiatedBy.COORDINATOR: "Coordinator asked",
}
RESOURCE_TYPES = {
    ResourceType.CRISIS_LINE: "Crisis line",
    ResourceType.EAP: "Employee assistance",
    ResourceType.CLINICIAN: "Clinician",
    ResourceType.CHAPLAIN: "Chaplain",
    ResourceType.SUBSTANCE_USE: "Substance use",
    ResourceType.FAMILY: "Family",
    ResourceType.FINANCIAL: "Financial",
    ResourceType.LEGAL: "Legal",
    ResourceType.OTHER: "Other",
}
URGENCIES = {Urgency.ROUTINE: "Routine", Urgency.URGENT: "Urgent", Urgency.EMERGENCY: "Emergency"}
PREFERRED_WAYS = {"call": "Call", "text": "Text", "email": "Email", "in_person": "In person"}


def offer_open(offer: dict | None, now: datetime) -> bool:
    """Whether a contact now answers the current offer (its check-in is still open)."""
    return offer_state(offer, now) != "none"


def offer_state(offer: dict | None, now: datetime) -> str:
    """Where a supporter's current offer stands, as the assignments page groups it:
    `overdue`, `due` (now, window open), `upcoming`, or `none` (closed or no offer)."""
    if offer is None or offer.get("outcome") is not None or offer.get("status") == "closed":
        return "none"
    if offer.get("status") == "overdue":
        return "overdue"
    due = datetime.fromisoformat(offer["due_at"])
    return "due" if due <= now else "upcoming"


def describe_duration(iso: str | None) -> str:
    """`P7D` as "7 days", `PT1M` as "1 min", `P1DT12H` as "1 day 12 h": how a
    coordinator reads a policy. Anything else is shown as it came."""
    if not iso:
        return "none"
    match = _DURATION.fullmatch(iso)
    if match is None:
        return iso
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    parts = []
    for value, one, many in (
        (days, "day", "days"),
        (hours, "h", "h"),
        (minutes, "min", "min"),
        (seconds, "s", "s"),
    ):
        if value:
            parts.append(f"{value:g} {one if value == 1 else many}")
    return " ".join(parts) or "0"


_DURATION = re.compile(
    r"P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)


def hours_as_duration(hours: str) -> str | None:
    """A form's whole number of hours as an ISO 8601 duration; None if it is not one."""
    return f"PT{int(hours)}H" if hours.strip().isdigit() else None


def days_as_durations(days: str) -> list[str] | None:
    """`7, 30` (days, from a form) as ISO 8601 durations; None if a part is not a number."""
    parts = [p.strip() for p in days.split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        return None
    return [f"P{int(p)}D" for p in parts]
