"""When check-ins are offered: the agency's policy per incident category, as pure code.

Every time is measured from the incident's `occurred_at` (docs/product.md, the care
timeline, step 3): the first offer is due at `first_offer_after` (default +24 h) and
its window closes at `window_closes_after` (+72 h). Follow-up offers come at each of
`follow_ups` (+7 d, +30 d), and an anniversary offer at `anniversary_after` (+365 d)
for line-of-duty deaths, officer-involved shootings and mass casualties, whose
anniversaries peer teams know to bring reactions back. Each later offer has a window
as long as the first's.

An offer whose due time has passed when it is planned (a late-reported incident, or a
follow-up after a slow first contact) is due at once, and its window is never shorter
than the policy's: the supporter always gets the whole window to make the offer.

An overdue offer stays open (a late contact still counts) until the next offer falls
due, or, for the last one, `LAST_OFFER_GRACE` after its window closed; then it expires.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.vocab import Category

ANNIVERSARY_CATEGORIES = frozenset(
    {Category.LINE_OF_DUTY_DEATH, Category.OFFICER_INVOLVED_SHOOTING, Category.MASS_CASUALTY}
)
LAST_OFFER_GRACE = timedelta(days=7)
DEFAULT = "default"  # the policy row that holds for every category without its own


@dataclass(frozen=True)
class Policy:
    first_offer_after: timedelta = timedelta(hours=24)
    window_closes_after: timedelta = timedelta(hours=72)
    follow_ups: tuple[timedelta, ...] = (timedelta(days=7), timedelta(days=30))
    anniversary_after: timedelta | None = None

    @property
    def window(self) -> timedelta:
        return self.window_closes_after - self.first_offer_after


def default_policy(category: Category | None) -> Policy:
    """The policy when the agency set none for this category, nor a default of its own."""
    if category in ANNIVERSARY_CATEGORIES:
        return Policy(anniversary_after=timedelta(days=365))
    return Policy()


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

    def offer(self, sequence: int, now: datetime) -> Offer:
        """Offer `sequence` (1-based) as planned at `now`."""
        window = self.policy.window
        due = self.occurred_at + self.offsets[sequence - 1]
        closes = due + window
        if due < now:  # late: due at once, with the whole window
            due = now
            closes = max(closes, now + window)
        if not self.ends_care(sequence):
            expires = max(self.occurred_at + self.offsets[sequence], closes)
        else:
            expires = closes + LAST_OFFER_GRACE
        return Offer(sequence, due, closes, expires, self.is_anniversary(sequence))
