"""The roster as matching sees it: plain values, free of I/O.

The store turns its rows into these; `matching` decides with them alone, so every rule
(rules 3-6) is a pure function with plain unit and property tests. Nothing
here carries contact details: matching never needs them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.vocab import Category, TrainingArea

OFFER_WINDOW = timedelta(hours=72)
DEFAULT_MAX_OPEN = 3
# How soon a supporter must be reachable to be offered an officer's request: the officer
# is waiting now, so someone free in three days will not do (docs/requests.md).
REQUEST_WINDOW = timedelta(hours=1)


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


@dataclass(frozen=True)
class WeeklyWindow:
    """A recurring window of availability, in the supporter's own time zone; `end` at or
    before `start` runs past midnight."""

    day: Weekday
    start: time
    end: time


@dataclass(frozen=True)
class Period:
    """A dated stretch (on call, or leave), timezone-aware."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Availability:
    """When a supporter can be reached: weekly windows plus on-call periods, minus leave.

    No weekly window and no on-call period means no stated limits: always available
    unless on leave.
    """

    timezone: str = "UTC"
    weekly: tuple[WeeklyWindow, ...] = ()
    on_call: tuple[Period, ...] = ()
    leave: tuple[Period, ...] = ()


@dataclass(frozen=True)
class Supporter:
    """A peer support officer, with what matching weighs and their current load."""

    supporter_id: str
    agency_id: str
    personnel_id: str
    active: bool = True
    certified_until: date | None = None
    training: dict[TrainingArea, date] = field(default_factory=dict)  # area: expires on
    max_open_assignments: int = DEFAULT_MAX_OPEN
    open_assignments: int = 0
    accepts_cross_agency: bool = False
    gender: str | None = None
    languages: frozenset[str] = frozenset()
    background: frozenset[str] = frozenset()
    specialties: frozenset[Category] = frozenset()
    rank: str | None = None
    unit: str | None = None
    availability: Availability = Availability()


@dataclass(frozen=True)
class Officer:
    """An officer as the agency's coordinator keeps them: unit, rank and supervisor, so
    the chain of command can be followed upward."""

    agency_id: str
    personnel_id: str
    unit: str | None = None
    rank: str | None = None
    supervisor_id: str | None = None
    background: frozenset[str] = frozenset()  # the same codes as Supporter.background


@dataclass(frozen=True)
class Preferences:
    """What the officer asked for; all optional. Opted out means no assignment at all."""

    preferred_gender: str | None = None
    languages: frozenset[str] = frozenset()
    outside_agency: bool = False
    opted_out: bool = False


@dataclass(frozen=True)
class AgencySettings:
    agency_id: str
    exclude_same_unit: bool = True
    share_with_region: bool = False  # this agency's supporters may serve other agencies
    use_regional_pool: bool = False  # this agency's officers may get other agencies' supporters
    required_training: frozenset[TrainingArea] = frozenset(TrainingArea)
    care_for_carers_after: int = 3  # assignments closed within 30 days that earn an offer
    # How long a supporter has to say "I'll reach them by ..." before the assignment
    # moves to the next-best supporter, and how many moves before the coordinators are
    # alerted instead (docs/requests.md).
    acknowledge_request_within: timedelta = timedelta(minutes=10)
    acknowledge_assignment_within: timedelta = timedelta(hours=4)
    max_moves: int = 3

    def acknowledge_within(self, for_request: bool) -> timedelta:
        return (
            self.acknowledge_request_within if for_request else self.acknowledge_assignment_within
        )


def in_regional_pool(supporter: Supporter, settings: AgencySettings) -> bool:
    """Whether an active supporter may serve other agencies' officers: their agency
    (`settings`) shares its supporters with the region and they accept cross-agency
    work. Both sides must agree; matching's regional pool and the peer directory hold
    the same people."""
    return settings.share_with_region and supporter.accepts_cross_agency


def draws_on_region(settings: AgencySettings, outside_agency: bool) -> bool:
    """Whether an officer of the agency (`settings`) may be served from the regional
    pool: their agency uses it, or they asked for a peer from outside their agency,
    which opens it even where the agency does not."""
    return outside_agency or settings.use_regional_pool


# The default rank ladder, lowest rung first. Ranks on one rung are peers; an agency's
# own titles that are not listed count as unknown, which matching treats as neutral.
RANK_LADDER: tuple[frozenset[str], ...] = (
    frozenset(
        {"officer", "police officer", "patrol officer", "deputy", "deputy sheriff"}
        | {"trooper", "agent", "special agent", "constable"}
    ),
    frozenset({"corporal", "detective", "investigator", "senior trooper"}),
    frozenset({"sergeant"}),
    frozenset({"lieutenant"}),
    frozenset({"captain"}),
    frozenset({"major", "commander"}),
    frozenset({"deputy chief", "assistant chief", "chief deputy", "undersheriff"}),
    frozenset({"chief", "chief of police", "sheriff", "commissioner", "colonel"}),
)
_RUNGS = {name: rung for rung, names in enumerate(RANK_LADDER) for name in names}


def rank_rung(rank: str | None) -> int | None:
    """The rung of `rank` on the default ladder (0 = line officer), or None when the rank
    is missing or not on the ladder. Spelling varies between agencies and records, so
    case, dots, dashes, underscores and extra spaces are ignored."""
    if rank is None:
        return None
    words = rank.casefold().replace(".", " ").replace("-", " ").replace("_", " ").split()
    return _RUNGS.get(" ".join(words))


def qualified_until(supporter: Supporter, required: frozenset[TrainingArea]) -> date | None:
    """The last day `supporter` is both certified and trained in every `required` area,
    or None if an area has no record at all. A date, not a yes/no, so that one value
    answers for any incident date."""
    last = supporter.certified_until or date.max
    for area in required:
        expires = supporter.training.get(area)
        if expires is None:
            return None
        last = min(last, expires)
    return last


def earliest_available(
    availability: Availability, now: datetime, within: timedelta = OFFER_WINDOW
) -> datetime | None:
    """The first moment in [now, now + within) at which the supporter can be reached, or
    None. Reachable means inside a weekly window (in the supporter's own time zone, so
    daylight saving shifts it in UTC) or an on-call period, and not on leave; with no
    weekly window and no on-call period, any time off leave. `now` must be aware."""
    horizon = now + within
    if availability.weekly or availability.on_call:
        spans = [*_weekly_spans(availability, now, horizon), *_periods(availability.on_call)]
    else:
        spans = [(now, horizon)]
    spans = [(max(s, now), e) for s, e in spans if s < horizon and e > now]
    leave = [(s, e) for s, e in _periods(availability.leave) if s < horizon and e > now]
    # The earliest free moment is where a span opens or where a leave ends.
    moments = sorted({s for s, _ in spans} | {e for _, e in leave if e < horizon})
    for moment in moments:
        if any(s <= moment < e for s, e in spans) and not any(s <= moment < e for s, e in leave):
            return moment
    return None


def available_at(availability: Availability, moment: datetime) -> bool:
    """Whether the supporter can be reached at `moment` (aware): inside a weekly window
    or an on-call period (or with neither stated) and not on leave."""
    return earliest_available(availability, moment, _INSTANT) == moment


def on_call_at(availability: Availability, moment: datetime) -> bool:
    """Whether `moment` (aware) falls in one of the supporter's on-call periods and not
    in a leave: leave wins over being on call, as it does for being reachable."""

    def within(periods: tuple[Period, ...]) -> bool:
        return any(start <= moment < end for start, end in _periods(periods))

    return within(availability.on_call) and not within(availability.leave)


_INSTANT = timedelta(microseconds=1)
_DAY_NUMBER = {day: number for number, day in enumerate(Weekday)}


def _weekly_spans(
    availability: Availability, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """Each weekly window that may overlap [start, end), as a UTC (start, end) pair. The
    walk starts a day early so that a window running past midnight into `start` counts."""
    zone = ZoneInfo(availability.timezone)
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    while day <= last:
        for window in availability.weekly:
            if _DAY_NUMBER[window.day] != day.weekday():
                continue
            ends_on = day if window.end > window.start else day + timedelta(days=1)
            yield (
                datetime.combine(day, window.start, zone).astimezone(UTC),
                datetime.combine(ends_on, window.end, zone).astimezone(UTC),
            )
        day += timedelta(days=1)


def _periods(periods: tuple[Period, ...]) -> list[tuple[datetime, datetime]]:
    return [(p.start.astimezone(UTC), p.end.astimezone(UTC)) for p in periods]
