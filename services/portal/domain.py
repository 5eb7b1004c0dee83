"""The portal's rules, with no I/O: who a signed-in person is, what each role is
offered, when a session has ended, where a sign-in may send the browser, the words
people see for the contract's codes, and how an officer's request for a peer, a
supporter's "I'll reach them by ..." and a coordinator's waiting list read."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
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
        Page("/ask", "Ask for a peer"),
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
        Page("/waiting", "Waiting"),
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


# Where each role lands after sign-in. An officer starts on the peer directory; asking
# for a peer comes first in their navigation.
HOME: dict[Role, str] = {
    Role.OFFICER: "/peers",
    Role.SUPPORTER: "/assignments",
    Role.COORDINATOR: "/queue",
    Role.LEADERSHIP: "/dashboard",
    Role.REGIONAL: "/dashboard",
}


def home_of(role: Role) -> str:
    return HOME[role]


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


# Reading a moment: the portal knows no officer's time zone, so times are UTC unless a
# supporter's own zone is known, and always beside how far off they are.


def clock(moment: datetime, now: datetime, zone: tzinfo = UTC) -> str:
    """`14:35 UTC` today, `Tue 14:35 UTC` within the week, `Tue 09 Dec, 14:35 UTC` beyond."""
    local, today = moment.astimezone(zone), now.astimezone(zone)
    if local.date() == today.date():
        text = local.strftime("%H:%M")
    elif abs(local - today) < timedelta(days=6):
        text = local.strftime("%a %H:%M")
    else:
        text = local.strftime("%a %d %b, %H:%M")
    return f"{text} {local.tzname() or ''}".strip()


def span_words(seconds: float) -> str:
    """A length of time, roughly: `12 min`, `3 h`, `4 days`."""
    seconds = abs(seconds)
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours = round(seconds / 3600)
    if hours < 48:
        return f"{hours} h"
    return f"{round(seconds / 86400)} days"


def from_now(moment: datetime, now: datetime) -> str:
    """`in about 15 min`, `about 2 h ago`, or `now` within a minute."""
    seconds = (moment - now).total_seconds()
    if abs(seconds) < 60:
        return "now"
    return f"in about {span_words(seconds)}" if seconds > 0 else f"about {span_words(seconds)} ago"


def _moment(value: str | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


# An officer asks for a peer (`/ask`): how to be reached, and for this request only a
# gender, a language, someone outside the agency. Nothing else, and never why.

REACH_WAYS = {"call": "A call", "text": "A text", "in_person": "In person"}
YOU_ASKED = {
    "call": "You asked for a call.",
    "text": "You asked for a text.",
    "in_person": "You asked to meet in person.",
}
THEY_ASKED = {
    "call": "They would like a call.",
    "text": "They would like a text.",
    "in_person": "They would like to meet in person.",
}
# Beside the officer's name on an assignment from a request, over their usual way.
ASKED_THIS_TIME = {
    "call": "asked for a call this time",
    "text": "asked for a text this time",
    "in_person": "asked to meet in person this time",
}
GENDERS = ("female", "male", "nonbinary")
OPEN_REQUEST = frozenset({"sent", "escalated"})
# How long a taken request stays on the officer's page after its peer took it.
SHOW_TAKEN_FOR = timedelta(hours=24)

LANGUAGE_NAMES = {
    "ar": "Arabic",
    "ase": "American Sign Language",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "hi": "Hindi",
    "hmn": "Hmong",
    "ht": "Haitian Creole",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "pa": "Punjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "so": "Somali",
    "tl": "Tagalog",
    "uk": "Ukrainian",
    "vi": "Vietnamese",
    "zh": "Chinese",
}


def language_name(code: str) -> str:
    """`es` as "Spanish", `pt-BR` as "Portuguese (pt-BR)"; an unknown code as it is."""
    known = LANGUAGE_NAMES.get(code.lower())
    if known:
        return known
    base = LANGUAGE_NAMES.get(code.lower().split("-")[0])
    return f"{base} ({code})" if base else code


def ask_body(form: Mapping[str, object], languages: Collection[str]) -> tuple[dict, dict[str, str]]:
    """The roster's request body from the officer's form, and what is wrong with it by
    field. Only the choices the page offered are accepted (`languages`: those its peers
    speak), so nothing typed can ride along."""
    errors: dict[str, str] = {}
    reach = str(form.get("reach") or "")
    if reach not in REACH_WAYS:
        errors["reach"] = "Choose how you would like to be reached."
    gender = str(form.get("preferred_gender") or "") or None
    if gender is not None and gender not in GENDERS:
        errors["preferred_gender"] = "Choose one from the list."
    language = str(form.get("language") or "") or None
    if language is not None and language not in languages:
        errors["language"] = "Choose one from the list."
    body = {
        "reach": reach,
        "preferred_gender": gender,
        "language": language,
        "outside_agency": form.get("outside_agency") == "on",
    }
    return body, errors


def request_to_show(requests: list[dict], now: datetime) -> dict | None:
    """The officer's request their page shows: the newest, while it is open, or for a
    day after a peer took it; None when there is nothing to show (then they may ask)."""
    if not requests:
        return None
    newest = max(requests, key=lambda r: _moment(r["requested_at"]))
    if newest["state"] in OPEN_REQUEST:
        return newest
    if newest["state"] == "taken":
        taken_at = _moment(newest.get("resolved_at")) or _moment(newest["requested_at"])
        if now - taken_at < SHOW_TAKEN_FOR:
            return newest
    return None


@dataclass(frozen=True)
class RequestStatus:
    """What an officer reads about their request."""

    state: str
    heading: str
    lines: tuple[str, ...]
    waiting: bool  # still open: the page checks again by itself, and it can be cancelled
    key: str  # changes exactly when what the officer should read changes


def request_status(view: dict, now: datetime) -> RequestStatus:
    state = view["state"]
    asked = YOU_ASKED.get(view.get("reach") or "", "")
    peer = view.get("peer") or {}
    reach_by = _moment(peer.get("reach_by"))
    key = f"{state}|{peer.get('reach_by') or ''}|{peer.get('first_name') or ''}"
    if state == "sent":
        sent = clock(_moment(view["requested_at"]), now)
        lines = (
            f"Your request went to a peer supporter at {sent}. As soon as they say when "
            "they will reach you, it shows here.",
            asked,
        )
        return RequestStatus(state, "Waiting for a peer", lines, True, key)
    if state == "escalated":
        lines = (
            "No peer could answer in time, so the program's coordinator is finding one "
            "for you. The coordinator sees that a request is waiting, not who asked.",
            asked,
        )
        heading = "The program's coordinator is finding someone"
        return RequestStatus(state, heading, lines, True, key)
    if state == "taken":
        name = peer.get("first_name") or "A peer"
        if reach_by is None:
            return RequestStatus(state, f"{name} will reach you", (asked,), False, key)
        if reach_by > now:
            heading = f"{name} will reach you by {clock(reach_by, now)}"
            lines = (f"That is {from_now(reach_by, now)}.", asked)
        else:
            heading = f"{name} said they would reach you by {clock(reach_by, now)}"
            lines = ("If you have not heard from them, you can ask again below.",)
        return RequestStatus(state, heading, lines, False, key)
    if state == "cancelled":
        lines = ("Nobody will contact you about it. You can ask again at any time.",)
        return RequestStatus(state, "Request cancelled", lines, False, key)
    return RequestStatus(state, "Your request", (), False, key)


# A supporter's "I'll reach them by ...": one tap, the time worked out when it is tapped.


@dataclass(frozen=True)
class ReachChoice:
    key: str
    label: str
    reach_by: datetime
    at: str  # the time, as the supporter reads it


WITHIN = (
    ("15m", "Within 15 minutes", timedelta(minutes=15)),
    ("1h", "Within 1 hour", timedelta(hours=1)),
    ("4h", "Within 4 hours", timedelta(hours=4)),
)
END_OF_DAY = time(23, 59)
LONGEST_PROMISE = timedelta(hours=72)  # the roster refuses a reach_by further off


def _end_of_day(now: datetime, zone: tzinfo, days_ahead: int) -> datetime:
    day = now.astimezone(zone).date() + timedelta(days=days_ahead)
    return datetime.combine(day, END_OF_DAY, zone).astimezone(UTC)


def reach_choices(now: datetime, zone: tzinfo = UTC, *, for_request: bool) -> list[ReachChoice]:
    """The buttons: within 15 minutes, 1 hour, 4 hours, later today (in the supporter's
    zone, when the day has more than 4 hours left), and for an assignment after an
    incident, tomorrow. An officer who asked is waiting: tomorrow is not offered them."""
    moments = [(key, label, now + span) for key, label, span in WITHIN]
    today = _end_of_day(now, zone, 0)
    if today - now > WITHIN[-1][2]:
        moments.append(("today", "Later today", today))
    if not for_request:
        moments.append(("tomorrow", "Tomorrow", _end_of_day(now, zone, 1)))
    return [
        ReachChoice(key, label, moment.replace(microsecond=0), f"by {clock(moment, now, zone)}")
        for key, label, moment in moments
        if now < moment <= now + LONGEST_PROMISE
    ]


def reach_by_of(
    key: str, now: datetime, zone: tzinfo = UTC, *, for_request: bool
) -> datetime | None:
    """The moment a tapped choice means now; None for a choice not offered."""
    for choice in reach_choices(now, zone, for_request=for_request):
        if choice.key == key:
            return choice.reach_by
    return None


@dataclass(frozen=True)
class AcknowledgmentWords:
    done: bool
    heading: str
    lines: tuple[str, ...]


def acknowledgment_words(view: dict, now: datetime, zone: tzinfo = UTC) -> AcknowledgmentWords:
    """What the assignment page says above (or instead of) the buttons."""
    asked = ()
    if view.get("for_request"):
        way = THEY_ASKED.get(view.get("reach") or "", "")
        asked = (f"They asked for a peer themselves. {way}".strip(),)
    reach_by = _moment(view.get("reach_by"))
    if view.get("acknowledged_at") is not None and reach_by is not None:
        heading = f"You said you'd reach them by {clock(reach_by, now, zone)}"
        return AcknowledgmentWords(True, heading, asked)
    deadline = _moment(view.get("acknowledge_by"))
    if deadline is None:
        lines = asked
    elif deadline > now:
        lines = (
            *asked,
            f"Tap one by {clock(deadline, now, zone)} ({from_now(deadline, now)}), or it "
            "goes to another peer.",
        )
    else:
        lines = (*asked, "The time to answer has passed: tap one now if you can take it.")
    return AcknowledgmentWords(False, "I'll reach them by …", lines)


# A coordinator's waiting list: what waits and since when, never who asked.


@dataclass(frozen=True)
class WaitingWords:
    what: str
    why: str
    since: str


def waiting_words(item: dict, now: datetime) -> WaitingWords:
    moves = int(item.get("moves") or 0)
    what = (
        "An officer asked for a peer"
        if item.get("for_request")
        else "An officer after a critical incident"
    )
    if item.get("reason") == "moves_exhausted":
        why = f"Offered to {moves + 1} peers in turn; none said when they would reach them."
    else:
        tried = f" ({moves + 1} peers offered)" if moves else ""
        why = f"Not taken in time, and no other peer fits and is free{tried}."
    escalated_at = _moment(item["escalated_at"])
    waited = (now - escalated_at).total_seconds()
    span = span_words(waited) if waited >= 60 else "under a minute"
    since = f"Waiting since {clock(escalated_at, now)} ({span})"
    return WaitingWords(what, why, since)
