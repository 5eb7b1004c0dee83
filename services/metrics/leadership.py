"""The leadership report's content: what a chief reads of one month or quarter, on one
page. Pure.

Every figure is copied from a release (`releases.release`): the period's, the previous
period's, and the region's of the period, each exactly as `/v1/metrics` publishes it,
suppression and all. Nothing here adds, subtracts or divides published cells into a
figure of its own: a figure a release did not publish is printed as a dash, and the
notes say why. The one-line summary is made of published figures only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared.errors import Invalid
from shared.vocab import ResourceType

from .domain import EARLIEST, LATEST, LOAD_ROWS, Granularity, Window, period_of, periods_between

DASH = "—"  # not published: suppressed, or its period not released yet
NOT_APPLICABLE = "n/a"  # published as nothing: no value to take a share or median of
NOT_COUNTED = "not counted yet"

_PERIOD = re.compile(r"(\d{4})-(?:Q([1-4])|(0[1-9]|1[0-2]))")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@dataclass(frozen=True)
class Period:
    """A calendar month (`2026-03`) or quarter (`2026-Q1`), UTC."""

    name: str
    granularity: Granularity
    start: date  # its first day
    end: date  # its last day

    @property
    def window(self) -> Window:
        return Window(self.start, self.end, self.granularity)

    @property
    def months(self) -> list[str]:
        return periods_between(self.start, self.end, Granularity.MONTH)

    @property
    def noun(self) -> str:
        return self.granularity.value

    @property
    def label(self) -> str:
        """`2026 Q1`, `March 2026`."""
        if self.granularity is Granularity.QUARTER:
            return self.name.replace("-", " ")
        return f"{_MONTHS[self.start.month - 1]} {self.start.year}"

    @property
    def span(self) -> str:
        """`1 January to 31 March 2026`."""
        first = f"{self.start.day} {_MONTHS[self.start.month - 1]}"
        return f"{first} to {day(self.end)}"

    def previous(self) -> Period | None:
        before = self.start - timedelta(days=1)
        if before < EARLIEST:
            return None
        return parse_period(period_of(before, self.granularity))


def parse_period(text: str) -> Period:
    """The period a report's path names; 422 naming `period` otherwise."""
    found = _PERIOD.fullmatch(text)
    if found is None:
        raise Invalid("period", "must be a quarter such as 2026-Q1 or a month such as 2026-03")
    year = int(found[1])
    if not EARLIEST.year <= year <= LATEST.year:
        raise Invalid("period", f"must be from {EARLIEST.year} to {LATEST.year}")
    if found[2]:
        granularity, first_month, months = Granularity.QUARTER, int(found[2]) * 3 - 2, 3
    else:
        granularity, first_month, months = Granularity.MONTH, int(found[3]), 1
    start = date(year, first_month, 1)
    after_month = first_month + months
    after = date(year + (after_month > 12), (after_month - 1) % 12 + 1, 1)
    return Period(text, granularity, start, after - timedelta(days=1))


def day(moment: date | datetime) -> str:
    """`1 January 2027`."""
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def percent(share: float) -> str:
    return f"{round(share * 100, 1):g} %"


# What the report is made of.


@dataclass(frozen=True)
class Column:
    who: str  # the agency, or `Region`
    when: str  # the period's label
    released: bool  # False: its period has not closed, nothing of it is published


@dataclass(frozen=True)
class Line:
    label: str
    values: tuple[str, ...]  # one per column, as printed
    sub: bool = False  # a part of the line above
    strong: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[Line, ...]
    note: str | None = None


@dataclass(frozen=True)
class Report:
    title: str
    agency: str | None  # None: the region's
    period: Period
    summary: str
    columns: tuple[Column, ...]
    sections: tuple[Section, ...]
    notes: tuple[str, ...]

    @property
    def who(self) -> str:
        return "The region (every agency)" if self.agency is None else f"Agency {self.agency}"

    @property
    def filename(self) -> str:
        return f"peerline-report-{self.agency or 'region'}-{self.period.name}.pdf"


# Where each figure is in a release.

Cell = dict
Source = Callable[[dict], Cell]


def _table(answer: dict, name: str) -> dict:
    return next(t for t in answer["tables"] if t["name"] == name)


def total(name: str) -> Source:
    return lambda answer: _table(answer, name)["totals"][0]


def row(name: str, key: str) -> Source:
    def cell(answer: dict) -> Cell:
        return next(r for r in _table(answer, name)["rows"] if r["key"] == key)["cells"][0]

    return cell


def indicator(name: str) -> Source:
    return lambda answer: next(i for i in answer["indicators"] if i["name"] == name)["cells"][0]


SHARE_72H = indicator("share_first_contact_within_72h")
OFFERED = total("first_offers")
UNREACHED = row("first_offers", "no_contact_yet")
RESOURCES = {
    ResourceType.EAP: "Employee assistance program",
    ResourceType.CLINICIAN: "Clinician",
    ResourceType.CHAPLAIN: "Chaplain",
    ResourceType.CRISIS_LINE: "Crisis line",
    ResourceType.SUBSTANCE_USE: "Substance use",
    ResourceType.FAMILY: "Family",
    ResourceType.FINANCIAL: "Financial",
    ResourceType.LEGAL: "Legal",
    ResourceType.OTHER: "Other",
}
LOAD = dict(
    zip(
        LOAD_ROWS,
        ("Supporters with 1 open assignment", "with 2", "with 3", "with 4 or more"),
        strict=True,
    )
)

# (title, note, lines: (label, source, unit, sub, strong)); `{goal}` is the program's.
SECTIONS: tuple[tuple[str, str | None, tuple], ...] = (
    (
        "Critical incidents",
        None,
        (
            ("Critical incidents", total("incidents"), "count", False, False),
            ("Officers involved", total("officers_involved"), "count", False, False),
        ),
    ),
    (
        "Support offered after an incident",
        None,
        (
            ("Officers offered support", OFFERED, "count", False, False),
            ("reached within 72 hours", row("first_offers", "within_72h"), "count", True, False),
            ("reached after 72 hours", row("first_offers", "after_72h"), "count", True, False),
            ("not reached yet", UNREACHED, "count", True, False),
            ("Share of those reached: within 72 h (goal {goal})", SHARE_72H, "share", False, True),
            (
                "Median hours from incident to first contact",
                indicator("median_hours_to_first_contact"),
                "hours",
                False,
                False,
            ),
        ),
    ),
    (
        "Contacts and declines",
        "Support is voluntary: a decline is the officer's choice, never reported further.",
        (
            ("Contacts by peer supporters", total("contacts_by_outcome"), "count", False, False),
            (
                "declined by the officer",
                row("contacts_by_outcome", "declined"),
                "count",
                True,
                False,
            ),
            ("Officers contacted", row("officers_supported", "officers"), "count", False, False),
        ),
    ),
    (
        "Referrals to further help, by type",
        None,
        (
            ("Referrals", total("referrals"), "count", False, False),
            *(
                (label, row("referrals", kind), "count", True, False)
                for kind, label in RESOURCES.items()
            ),
        ),
    ),
    (
        "Officers' ratings of the program",
        None,
        (
            ("Ratings given", total("ratings"), "count", False, False),
            (
                "Would recommend the program",
                indicator("share_would_recommend"),
                "share",
                False,
                True,
            ),
            *(
                (f"rated {stars} of 5", row("ratings", str(stars)), "count", True, False)
                for stars in (5, 4, 3, 2, 1)
            ),
        ),
    ),
)


def text(cell: Cell | None, unit: str, released: bool) -> str:
    """A published figure as printed; a dash for what is not published."""
    if cell is None:
        return ""
    if cell["suppressed"]:
        return DASH
    value = cell["value"]
    if value is None:
        return DASH if not released else NOT_APPLICABLE
    if unit == "share":
        return percent(value)
    if unit == "hours":
        return f"{value:g} h"
    return f"{value:,}"


def report(
    period: Period,
    own: dict,
    previous: dict | None,
    region: dict | None,
    goal: float,
    released_from: datetime,
) -> Report:
    """The report of `period` from its releases: `own` (the agency's, or the region's
    when the caller asked for the region), the `previous` period's (None before the
    first) and the `region`'s (None when `own` is the region's). `goal`: the program's
    goal for the 72-hour share; `released_from`: when the period's figures are
    published, if it has not closed yet."""
    before = period.previous()
    agency = own["scope"] == "agency"
    who = own["agency"] if agency else "Region"
    shown = [(who, period.label, own)]
    if previous is not None and before is not None:
        shown.append((who, before.label, previous))
    if region is not None:
        shown.append(("Region", period.label, region))
    answers = [answer for *_, answer in shown]
    columns = tuple(Column(who, when, not answer["open"]) for who, when, answer in shown)

    def values(source: Source, unit: str, periodic: bool = True) -> tuple[str, ...]:
        return tuple(
            text(source(answer), unit, column.released)
            if periodic or answer is not previous
            else ""
            for answer, column in zip(answers, columns, strict=True)
        )

    sections = [
        Section(
            title,
            tuple(
                Line(label.format(goal=percent(goal)), values(source, unit), sub, strong)
                for label, source, unit, sub, strong in lines
            ),
            note,
        )
        for title, note, lines in SECTIONS
    ]
    # Open assignments are a count of today, the same in every release: printed in the
    # period's columns only, never as the previous period's.
    sections.append(
        Section(
            "Peer supporters' open assignments (today, not over the period)",
            tuple(
                Line(label, values(row("supporter_load", key), "count", periodic=False), key != "1")
                for key, label in LOAD.items()
            ),
            "As they stand today: no earlier figure is kept. A supporter takes new "
            "assignments only below their cap (3 unless set), so that none burns out.",
        )
    )
    sections.append(
        Section(
            "Peer supporters' training",
            (Line("Supporters whose training is current", tuple(NOT_COUNTED for _ in answers)),),
            "Not counted yet: the metrics service does not count supporters' training or "
            "certification; the roster holds it, supporter by supporter.",
        )
    )
    return Report(
        title=f"Peer support program: {period.label}",
        agency=own["agency"] if agency else None,
        period=period,
        summary=summary(period, own, goal, released_from),
        columns=columns,
        sections=tuple(sections),
        notes=_notes(period, own, previous, columns, sections, released_from),
    )


def summary(period: Period, own: dict, goal: float, released_from: datetime) -> str:
    """One sentence a chief reads first: the 72-hour share against the goal, or in
    plain words why it is not there."""
    this = f"this {period.noun}"
    if own["open"]:
        return (
            f"{period.label} has not closed yet: its figures are published from "
            f"{day(released_from)}, {released_from:%H:%M} UTC."
        )
    share = SHARE_72H(own)
    if share["suppressed"]:
        if own.get("withheld_months"):
            return (
                f"Too few officers were involved in critical incidents {this} to report the "
                "agency's figures on their own without identifying anyone: they are counted "
                "in the region's."
            )
        return (
            f"The share reached within 72 hours is not published {this}: it could reveal a "
            f"count of fewer than {own['min_cell']} officers and so identify them."
        )
    if share["value"] is None:
        offered = OFFERED(own)
        if not offered["suppressed"] and offered["value"] == 0:
            return f"No officer was offered support after a critical incident {this}."
        return f"No officer offered support {this} was reached, so there is no 72-hour share."
    # The share is of the officers reached: those not reached are not in it, and are
    # said beside it when a published count says there were some.
    versus = "meeting" if share["value"] >= goal else "below"
    sentence = (
        f"Of the officers peer supporters reached after a critical incident {this}, "
        f"{percent(share['value'])} were reached within 72 hours, {versus} the program's "
        f"goal of {percent(goal)}"
    )
    unreached = UNREACHED(own)
    if not unreached["suppressed"] and unreached["value"]:
        n = unreached["value"]
        more = (
            "1 more officer offered support was"
            if n == 1
            else f"{n:,} more officers offered support were"
        )
        return f"{sentence}; {more} not reached."
    return f"{sentence}."


def _notes(period, own, previous, columns, sections, released_from) -> tuple[str, ...]:
    printed = {v for s in sections for line in s.lines for v in line.values}
    small = own["min_cell"] - 1
    notes = [
        f"{DASH} Not published: a count from 1 to {small}, or a figure from which one could "
        "be worked out, is suppressed so that no one can be identified."
        if small >= 1
        else f"{DASH} Not published: suppressed so that no one can be identified."
    ]
    withheld = own.get("withheld") or (previous or {}).get("withheld")
    if withheld:
        notes.append(withheld)
    if not all(c.released for c in columns):
        notes.append(
            f"{DASH} in a column not released yet: its period has not closed ("
            f"{period.label}'s figures are published from {day(released_from)})."
        )
    if NOT_APPLICABLE in printed:
        notes.append(f"{NOT_APPLICABLE}: nothing was counted to take a share or a median of.")
    return tuple(notes)
