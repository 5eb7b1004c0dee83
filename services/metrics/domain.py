"""The metrics service's rules, pure: no I/O, no framework.

Reporting periods are calendar months and quarters in UTC, named `2026-03` and
`2026-Q1`. A release covers a window of whole periods for one agency or the region:
leadership sees its own agency, the regional role the region or any agency (rules 2 and
11). Its measures are the tables below; the protection that comes before anyone sees
them is `disclosure` (suppression) and `privacy` (differential privacy).
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from shared.errors import Invalid, NotAllowed
from shared.tokens import Principal, Role
from shared.vocab import (
    Category,
    Channel,
    ContactOutcome,
    ExceptionReason,
    InitiatedBy,
    ResourceType,
    UnfilledReason,
)

MAX_DAYS = 5 * 366
WITHIN = timedelta(hours=72)  # a first contact this soon after the incident is timely
LOAD_ROWS = ("1", "2", "3", "4_or_more")
# The two kinds of assignment a supporter acknowledges: an officer's own request from
# the portal (`for_request`), or every other (from an incident CAD reported, or a
# care-for-the-carers offer).
REQUEST, INCIDENT = "officer_request", "incident_assignment"
KINDS = (REQUEST, INCIDENT)
DEADLINE_ROWS = ("within_deadline", "late")


def kind_of(for_request: bool) -> str:
    return REQUEST if for_request else INCIDENT


def acknowledged_measure(for_request: bool) -> str:
    """The table an acknowledgment of this kind is counted in."""
    return "acknowledged_requests" if for_request else "acknowledged_incident_assignments"


class Granularity(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


class Privacy(enum.StrEnum):
    SUPPRESSION = "suppression"  # small cells suppressed, with complementary cells
    DP = "dp"  # differentially private counts (regional publication only)


def period_of(moment: datetime | date, granularity: Granularity) -> str:
    if granularity is Granularity.MONTH:
        return f"{moment.year:04d}-{moment.month:02d}"
    return f"{moment.year:04d}-Q{(moment.month - 1) // 3 + 1}"


def periods_between(start: date, end: date, granularity: Granularity) -> list[str]:
    """Every period from the one holding `start` to the one holding `end`, in order."""
    step = 1 if granularity is Granularity.MONTH else 3
    year, month = start.year, (start.month - 1) // step * step + 1
    out = []
    while (year, month) <= (end.year, end.month):
        out.append(period_of(date(year, month, 1), granularity))
        month += step
        if month > 12:
            year, month = year + 1, month - 12
    return out


def quarter_end(period: str) -> datetime:
    """The first instant after the quarter `period` (`2026-Q1` ends 2026-04-01)."""
    year, quarter = int(period[:4]), int(period[-1])
    month = quarter * 3 + 1
    if month > 12:
        return datetime(year + 1, 1, 1, tzinfo=UTC)
    return datetime(year, month, 1, tzinfo=UTC)


def months_of_quarter(period: str) -> list[str]:
    year, quarter = int(period[:4]), int(period[-1])
    return [f"{year:04d}-{m:02d}" for m in range(quarter * 3 - 2, quarter * 3 + 1)]


# The dates a window may name: wide enough for any program's history, narrow enough
# that widening to whole periods never leaves the calendar.
EARLIEST, LATEST = date(1970, 1, 1), date(2999, 12, 31)


@dataclass(frozen=True)
class Window:
    start: date
    end: date
    granularity: Granularity

    @property
    def periods(self) -> list[str]:
        return periods_between(self.start, self.end, self.granularity)

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    def period(self, moment: datetime | date) -> str:
        return period_of(moment, self.granularity)


def window_of(
    start: date | None, end: date | None, granularity: Granularity, today: date
) -> Window:
    """The asked window, widened to whole periods; by default the last twelve months."""
    for name, day in (("from", start), ("to", end)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise Invalid(name, f"must be from {EARLIEST} to {LATEST}")
    end = end or today
    start = start or (end.replace(day=1) - timedelta(days=335)).replace(day=1)
    if start > end:
        raise Invalid("from", "must not be after `to`")
    if (end - start).days > MAX_DAYS:
        raise Invalid("from", "the window is at most five years")
    step = 1 if granularity is Granularity.MONTH else 3
    first = date(start.year, (start.month - 1) // step * step + 1, 1)
    last_month = ((end.month - 1) // step + 1) * step  # the last month of `end`'s period
    after = date(end.year + (last_month == 12), last_month % 12 + 1, 1)
    return Window(first, after - timedelta(days=1), granularity)


def scope_of(caller: Principal, agency: str | None) -> str | None:
    """The agency whose figures `caller` gets, or None for the region."""
    if caller.role is Role.LEADERSHIP:
        if agency not in (None, caller.agency):
            raise NotAllowed("Leadership sees its own agency's figures only.")
        return caller.agency
    return agency


@dataclass(frozen=True)
class Measure:
    name: str
    title: str
    rows: tuple[str, ...]
    group: str | None = None  # tables of one population share their column totals
    additive: bool = True  # distinct counts do not add up over periods


def _codes(vocab) -> tuple[str, ...]:
    return tuple(v.value for v in vocab)


MEASURES = (
    Measure("incidents", "Critical incidents by category", _codes(Category)),
    Measure("officers_involved", "Officers involved, by incident category", _codes(Category)),
    Measure(
        "first_offers",
        "Officers offered a check-in, by time from incident to first contact",
        ("within_72h", "after_72h", "no_contact_yet"),
    ),
    Measure("contacts_by_channel", "Contacts by channel", _codes(Channel), "contacts"),
    Measure("contacts_by_initiator", "Contacts by initiator", _codes(InitiatedBy), "contacts"),
    Measure(
        "contacts_by_outcome", "Contacts by outcome (declines)", _codes(ContactOutcome), "contacts"
    ),
    Measure("officers_supported", "Distinct officers contacted", ("officers",), additive=False),
    Measure("referrals", "Referrals by resource type", _codes(ResourceType)),
    Measure("ratings", "Program ratings (1 to 5)", ("1", "2", "3", "4", "5"), "feedback"),
    Measure("recommend", "Would recommend the program", ("yes", "no"), "feedback"),
    Measure("exceptions", "Confidentiality exceptions by reason", _codes(ExceptionReason)),
    Measure("unfilled", "Unfilled assignments by reason", _codes(UnfilledReason)),
    Measure("care_for_carers", "Care-for-the-carers offers", ("offered",)),
    Measure("requests_made", "Officers' requests for a peer", ("made",)),
    Measure(
        "requests_cancelled", "Officers' requests withdrawn before anyone took them", ("cancelled",)
    ),
    Measure(
        "acknowledged_requests",
        "Officers' requests answered by a supporter, within the deadline or late",
        DEADLINE_ROWS,
    ),
    Measure(
        "acknowledged_incident_assignments",
        "Incident assignments acknowledged by the supporter, within the deadline or late",
        DEADLINE_ROWS,
    ),
    Measure("reassignments", "Assignments moved to the next-best supporter, by kind", KINDS),
    Measure("escalations", "Assignments escalated to the coordinators, by kind", KINDS),
)


@dataclass
class Counts:
    """Raw counts of a window: measure → row → period → count; what medians are
    taken of, by period (and kind)."""

    periods: list[str]
    counts: dict[str, dict[str, Counter]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Counter))
    )
    hours_to_first_contact: dict[str, list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # kind (KINDS) → period → minutes from assignment (or request) to acknowledgment
    minutes_to_acknowledge: dict[str, dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    load: Counter = field(default_factory=Counter)  # open assignments → supporters
    officers_involved_total: int = 0

    def add(self, measure: str, row: str, period: str, n: int = 1) -> None:
        self.counts[measure][row][period] += n
