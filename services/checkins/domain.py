"""The check-ins rules, free of I/O: when offers come, what a contact does to an offer,
who may act on a record, which resource a referral may name, and what a feedback code is.

When offers come. Every time is measured from the incident's `occurred_at`
(docs/product.md, the care timeline, step 3): the first offer is due at
`first_offer_after` (default +24 h) and its window closes at `window_closes_after`
(+72 h). Follow-up offers come at each of `follow_ups` (+7 d, +30 d), and an
anniversary offer at `anniversary_after` (+365 d) for line-of-duty deaths,
officer-involved shootings and mass casualties, whose anniversaries peer teams know to
bring reactions back. Each later offer has a window as long as the first's.

An offer whose due time has passed when it is planned (a late-reported incident) is due
at once, and its window is never shorter than the policy's: the supporter always gets
the whole window to make the offer.

A follow-up is due no sooner than `follow_up_min_gap` (default 3 d) after the contact
that closed the offer before it: at the later of its planned time and that contact plus
the gap, still with the whole window. Without the gap, a follow-up already past (an
incident reported 10 days late: its +7 d follow-up) would fall due the moment the
first contact was logged, offering support again to an officer just spoken to. The
anniversary keeps its date, which is its point; an offer that expired was closed by no
contact, so the offer after it has no gap to keep.

An officer's own request (docs/requests.md) has no incident: its time is the moment
the officer asked, its category none, so the agency's default policy holds. The
officer is waiting now, so its first offer is due at once, with the policy's window
(`window_closes_after` - `first_offer_after`, 48 h by default), as any offer planned
late; the follow-ups (and an anniversary, if the default policy has one) keep their
times from the request (`request_policy`).

An overdue offer stays open (a late contact still counts) until the next offer falls
due, or, for the last one, `LAST_OFFER_GRACE` after its window closed; then it expires.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from shared.errors import Invalid, NotAllowed
from shared.tokens import Principal, Role
from shared.vocab import Category, CheckInOutcome, ContactOutcome, InitiatedBy

ANNIVERSARY_CATEGORIES = frozenset(
    {Category.LINE_OF_DUTY_DEATH, Category.OFFICER_INVOLVED_SHOOTING, Category.MASS_CASUALTY}
)
LAST_OFFER_GRACE = timedelta(days=7)
DEFAULT = "default"  # the policy row that holds for every category without its own


class Status(enum.StrEnum):
    """A check-in's state. Every state but `closed` is open: a contact closes it."""

    SCHEDULED = "scheduled"  # planned, not due yet
    DUE = "due"  # the supporter has been prompted to offer it
    OVERDUE = "overdue"  # its window closed without a contact; the coordinator knows
    CLOSED = "closed"


OPEN = (Status.SCHEDULED, Status.DUE, Status.OVERDUE)


@dataclass(frozen=True)
class Policy:
    first_offer_after: timedelta = timedelta(hours=24)
    window_closes_after: timedelta = timedelta(hours=72)
    follow_ups: tuple[timedelta, ...] = (timedelta(days=7), timedelta(days=30))
    anniversary_after: timedelta | None = None
    follow_up_min_gap: timedelta = timedelta(days=3)

    @property
    def window(self) -> timedelta:
        return self.window_closes_after - self.first_offer_after


def default_policy(category: Category | None) -> Policy:
    """The policy when the agency set none for this category, nor a default of its own."""
    if category in ANNIVERSARY_CATEGORIES:
        return Policy(anniversary_after=timedelta(days=365))
    return Policy()


def request_policy(policy: Policy) -> Policy:
    """`policy` for an officer's request: the first offer due the moment they asked,
    with the policy's window; the later offers as the policy says."""
    return replace(policy, first_offer_after=timedelta(0), window_closes_after=policy.window)


@dataclass(frozen=True)
class Offer:
    sequence: int  # 1 = the first offer
    due_at: datetime
    window_closes_at: datetime
    expires_at: datetime  # an offer still open then is closed as expired
    anniversary: bool = False


@dataclass(frozen=True)
class Plan:
    """Every offer of one assignment, as the policy lays them out from `occurred_at`."""

    policy: Policy
    occurred_at: datetime
    offsets: tuple[timedelta, ...] = field(init=False)

    def __post_init__(self) -> None:
        p = self.policy
        offsets = (p.first_offer_after, *sorted(p.follow_ups))
        if p.anniversary_after is not None:
            offsets += (p.anniversary_after,)
        object.__setattr__(self, "offsets", offsets)

    @property
    def last(self) -> int:
        return len(self.offsets)

    def is_anniversary(self, sequence: int) -> bool:
        return self.policy.anniversary_after is not None and sequence == self.last

    def ends_care(self, sequence: int) -> bool:
        """Whether closing offer `sequence` leaves no regular offer to come (an
        anniversary offer is a reminder a year on, not continuing care)."""
        following = sequence + 1
        return following > self.last or self.is_anniversary(following)

    def offer(self, sequence: int, now: datetime, contacted_at: datetime | None = None) -> Offer:
        """Offer `sequence` (1-based) as planned at `now`; `contacted_at` is when the
        contact that closed the offer before it was logged, if one did."""
        due = max(self.occurred_at + self.offsets[sequence - 1], now)  # late: at once
        if contacted_at is not None and not self.is_anniversary(sequence):
            due = max(due, contacted_at + self.policy.follow_up_min_gap)
        closes = due + self.policy.window  # however late, the whole window
        if not self.ends_care(sequence):
            expires = max(self.occurred_at + self.offsets[sequence], closes)
        else:
            expires = closes + LAST_OFFER_GRACE
        return Offer(sequence, due, closes, expires, self.is_anniversary(sequence))


def ends_offers(outcome: CheckInOutcome) -> bool:
    """Whether closing an offer so plans no further one: the officer said no (honoured
    at once), or the incident was retracted."""
    return outcome in (CheckInOutcome.DECLINED, CheckInOutcome.CANCELLED)


# What a contact about an open check-in closes it as; an `unreachable` attempt leaves
# the offer open, for another try.
CLOSES_AS = {
    ContactOutcome.SUPPORT_PROVIDED: CheckInOutcome.CONTACTED,
    ContactOutcome.FOLLOW_UP_PLANNED: CheckInOutcome.CONTACTED,
    ContactOutcome.DECLINED: CheckInOutcome.DECLINED,
}


def check_contact(
    checkin_id: uuid.UUID | None, personnel_id: str | None, initiated_by: InitiatedBy
) -> None:
    """A contact about a check-in finds its officer through the assignment; one without
    must name the officer, and cannot be a scheduled check-in's."""
    if checkin_id is not None:
        if personnel_id is not None:
            raise Invalid("personnel_id", "a contact about a check-in names no officer")
        return
    if personnel_id is None:
        raise Invalid("personnel_id", "required for a contact without a check-in")
    if initiated_by is InitiatedBy.SCHEDULED_CHECKIN:
        raise Invalid("initiated_by", "a scheduled check-in contact needs its checkin_id")


class Supported(Protocol):
    """A record of one supporter's care: an assignment, or a contact."""

    supporter_id: str
    supporter_agency_id: str


def ensure_own(caller: Principal, record: Supported, message: str) -> None:
    """A supporter acts only on their own assignments and contacts (rule 4); `message`
    says whose the record is."""
    if (record.supporter_id, record.supporter_agency_id) != (caller.sub, caller.agency):
        raise NotAllowed(message)


class Assignment(Supported, Protocol):
    agency_id: str  # the officer's


def ensure_may_name(caller: Principal, assignment: Assignment) -> None:
    """A supporter may name only an assignment of theirs; a coordinator, only one whose
    officer is of their agency."""
    if caller.role is Role.SUPPORTER:
        ensure_own(caller, assignment, "This assignment is another supporter's.")
    elif assignment.agency_id != caller.agency:
        raise NotAllowed("This assignment is another agency's.")


class Resource(Protocol):
    agency_id: str
    region_wide: bool
    active: bool


def ensure_referable(resource: Resource | None, agency_id: str) -> None:
    """A referral names a resource the officer's agency may use, its own or a
    region-wide one, and still active."""
    if resource is None or not (resource.region_wide or resource.agency_id == agency_id):
        # Another agency's own resources are as unknown here as ids never used.
        raise Invalid("resource_id", "no resource of the officer's agency or the region")
    if not resource.active:
        raise Invalid("resource_id", "the resource is retired")


# The date is the recorder's local one: today somewhere on Earth is at most 14 hours
# ahead of UTC, so a day later than that is in the future everywhere.
AHEAD_OF_UTC = timedelta(hours=14)


def ensure_past(occurred_on: date, now: datetime) -> None:
    """A confidentiality exception happened on a day that has begun somewhere."""
    if occurred_on > (now + AHEAD_OF_UTC).date():
        raise Invalid("occurred_on", "may not be in the future")


# No 0/O, 1/I: a code is read off a card and typed. 32 symbols, 12 of them: 60 bits.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
GROUPS, GROUP_LENGTH = 3, 4


def new_code() -> str:
    """A random code, grouped for reading aloud and typing: `K7QP-M2XD-9RTA`."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(symbols[i : i + GROUP_LENGTH] for i in range(0, len(symbols), GROUP_LENGTH))


def code_hash(code: str) -> str:
    """The stored form of a code, the same however it was typed (case, spaces, dashes)."""
    normalised = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normalised.encode()).hexdigest()
