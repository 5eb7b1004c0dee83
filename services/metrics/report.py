"""A release: the program's measures for one agency or the region over whole periods,
read from the counted rows, then protected (suppressed, or noised in DP mode) before
anyone sees them. Reading is I/O; `build` and everything after it is pure."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.vocab import (
    Category,
    Channel,
    ContactOutcome,
    ExceptionReason,
    InitiatedBy,
    ResourceType,
    UnfilledReason,
)

from . import disclosure
from .periods import Granularity, period_of, periods_between
from .store import (
    AssignmentRow,
    CareEndedRow,
    ContactRow,
    DistinctRow,
    FactRow,
    FirstOfferRow,
    IncidentRow,
)

WITHIN = timedelta(hours=72)
LOAD_ROWS = ("1", "2", "3", "4_or_more")


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
)


@dataclass
class Counts:
    """Raw counts of a window: measure → row → period → count; medians by period."""

    periods: list[str]
    counts: dict[str, dict[str, Counter]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(Counter))
    )
    hours_to_first_contact: dict[str, list[float]] = field(
        default_factory=lambda: defaultdict(list)
    )
    load: Counter = field(default_factory=Counter)  # open assignments → supporters
    officers_involved_total: int = 0

    def add(self, measure: str, row: str, period: str, n: int = 1) -> None:
        self.counts[measure][row][period] += n


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


async def read_counts(session: AsyncSession, agency: str | None, window: Window) -> Counts:
    """Everything a release counts, for `agency` (its officers) or the region (None)."""
    counts = Counts(window.periods)

    def scoped(query, column):
        return query if agency is None else query.where(column == agency)

    since, until = window.since, window.until
    incidents = await session.execute(
        scoped(
            select(IncidentRow.category, IncidentRow.occurred_at, IncidentRow.involved).where(
                IncidentRow.occurred_at >= since,
                IncidentRow.occurred_at < until,
                IncidentRow.retracted.is_(False),
            ),
            IncidentRow.agency_id,
        )
    )
    for category, occurred_at, involved in incidents:
        counts.add("incidents", category, window.period(occurred_at))
        counts.add("officers_involved", category, window.period(occurred_at), involved)
        counts.officers_involved_total += involved

    contacts = (
        await session.execute(
            scoped(
                select(
                    ContactRow.logged_at,
                    ContactRow.channel,
                    ContactRow.initiated_by,
                    ContactRow.outcome,
                    ContactRow.officer_ref,
                ).where(ContactRow.logged_at >= since, ContactRow.logged_at < until),
                ContactRow.agency_id,
            )
        )
    ).all()
    officers: dict[str, set[str]] = defaultdict(set)
    for logged_at, channel, initiated_by, outcome, officer_ref in contacts:
        period = window.period(logged_at)
        counts.add("contacts_by_channel", channel, period)
        counts.add("contacts_by_initiator", initiated_by, period)
        counts.add("contacts_by_outcome", outcome, period)
        if officer_ref is not None:
            officers[period].add(officer_ref)
    frozen = dict(
        (
            await session.execute(
                select(DistinctRow.period, DistinctRow.officers).where(
                    DistinctRow.agency_id == (agency or "*"),
                    DistinctRow.period.in_(window.periods),
                )
            )
        ).all()
    )
    for period in window.periods:
        counts.add("officers_supported", "officers", period, frozen.get(period, 0))
        if period not in frozen:
            counts.add("officers_supported", "officers", period, len(officers[period]))

    facts = await session.execute(
        scoped(
            select(FactRow.measure, FactRow.code, FactRow.on).where(
                FactRow.on >= window.start, FactRow.on <= window.end
            ),
            FactRow.agency_id,
        )
    )
    for measure, code, on in facts:
        counts.add(measure, code, window.period(on))

    await _first_offers(session, agency, window, counts)
    await _assignments(session, agency, window, counts)
    return counts


async def _first_offers(
    session: AsyncSession, agency: str | None, window: Window, counts: Counts
) -> None:
    """Each first offer by how long after the incident its first contact came."""
    query = (
        select(
            FirstOfferRow.checkin_id,
            FirstOfferRow.scheduled_at,
            AssignmentRow.incident_occurred_at,
            AssignmentRow.assigned_at,
        )
        .outerjoin(AssignmentRow, AssignmentRow.assignment_id == FirstOfferRow.assignment_id)
        .where(
            FirstOfferRow.scheduled_at >= window.since, FirstOfferRow.scheduled_at < window.until
        )
    )
    if agency is not None:
        query = query.where(FirstOfferRow.agency_id == agency)
    offers = (await session.execute(query)).all()
    first_contact: dict[str, datetime] = {}
    ids = [o.checkin_id for o in offers]
    for i in range(0, len(ids), 500):
        rows = await session.execute(
            select(ContactRow.checkin_id, ContactRow.logged_at).where(
                ContactRow.checkin_id.in_(ids[i : i + 500])
            )
        )
        for checkin_id, logged_at in rows:
            known = first_contact.get(checkin_id)
            first_contact[checkin_id] = logged_at if known is None else min(known, logged_at)
    for checkin_id, scheduled_at, incident_at, assigned_at in offers:
        period = window.period(scheduled_at)
        contacted = first_contact.get(checkin_id)
        if contacted is None:
            counts.add("first_offers", "no_contact_yet", period)
            continue
        delay = contacted - (incident_at or assigned_at or scheduled_at)
        counts.add("first_offers", "within_72h" if delay <= WITHIN else "after_72h", period)
        counts.hours_to_first_contact[period].append(delay.total_seconds() / 3600)


async def _assignments(
    session: AsyncSession, agency: str | None, window: Window, counts: Counts
) -> None:
    """Care-for-the-carers offers in the window; supporters' open assignments now."""
    query = select(AssignmentRow.assigned_at).where(
        AssignmentRow.care_for_carer.is_(True),
        AssignmentRow.assigned_at >= window.since,
        AssignmentRow.assigned_at < window.until,
    )
    if agency is not None:
        query = query.where(AssignmentRow.agency_id == agency)
    for (assigned_at,) in await session.execute(query):
        counts.add("care_for_carers", "offered", window.period(assigned_at))

    open_query = (
        select(AssignmentRow.supporter_id)
        .outerjoin(CareEndedRow, CareEndedRow.assignment_id == AssignmentRow.assignment_id)
        .where(CareEndedRow.assignment_id.is_(None), AssignmentRow.supporter_id.is_not(None))
    )
    if agency is not None:
        open_query = open_query.where(AssignmentRow.supporter_agency_id == agency)
    per_supporter = Counter((await session.scalars(open_query)).all())
    counts.load = Counter(LOAD_ROWS[min(n, len(LOAD_ROWS)) - 1] for n in per_supporter.values())


# What a release looks like once protected.

Noise = Callable[[int], int]  # a count → the count to publish (DP mode)


def _cell(table: disclosure.Table, at: disclosure.Cell) -> dict:
    if at in table.suppressed:
        return {"value": None, "suppressed": True}
    return {"value": table.value(at), "suppressed": False}


def _table_json(name: str, title: str, rows: Iterable[str], columns: list[str], table, additive):
    rows = list(rows)
    body = {
        "name": name,
        "title": title,
        "columns": columns,
        "rows": [
            {
                "key": key,
                "cells": [_cell(table, (r, c)) for c in range(len(columns))],
                "total": _cell(table, (r, len(columns))) if additive else None,
            }
            for r, key in enumerate(rows)
        ],
        "totals": [_cell(table, (len(rows), c)) for c in range(len(columns))] if additive else None,
        "total": _cell(table, (len(rows), len(columns))) if additive else None,
    }
    return body


def _protect(tables: list[disclosure.Table], min_cell: int, additive: bool) -> None:
    if additive:
        disclosure.suppress_together(tables, min_cell)
        return
    for table in tables:  # no margins: each cell stands alone
        table.suppressed |= {
            (r, c)
            for r in range(table.rows)
            for c in range(table.columns)
            if 0 < table.cells[r][c] < min_cell
        }
        # Margins of a non-additive table are never published; hide them from checks.
        table.suppressed |= {at for at in table.all_cells() if at[0] == table.rows}
        table.suppressed |= {at for at in table.all_cells() if at[1] == table.columns}


def build(counts: Counts, min_cell: int, noise: Noise | None = None) -> dict:
    """Tables, indicators and the load histogram, suppressed (or noised) for release."""
    periods = counts.periods

    def matrix(measure: Measure) -> list[list[int]]:
        cells = [[counts.counts[measure.name][row][p] for p in periods] for row in measure.rows]
        if noise is not None:
            cells = [[noise(v) for v in row] for row in cells]
        return cells

    tables = {m.name: disclosure.Table(matrix(m)) for m in MEASURES}
    if noise is None:
        groups: dict[str, list[Measure]] = defaultdict(list)
        for m in MEASURES:
            groups[m.group or m.name].append(m)
        for members in groups.values():
            _protect([tables[m.name] for m in members], min_cell, members[0].additive)
    out = [
        _table_json(m.name, m.title, m.rows, periods, tables[m.name], m.additive) for m in MEASURES
    ]
    load = disclosure.Table([[counts.load[row]] for row in LOAD_ROWS])
    if noise is None:
        disclosure.suppress(load, min_cell)
    else:
        load.cells = [[noise(v) for v in row] for row in load.cells]
    out.append(
        _table_json(
            "supporter_load",
            "Peer supporters by open assignments (now)",
            LOAD_ROWS,
            ["now"],
            load,
            True,
        )
    )
    return {"tables": out, "indicators": _indicators(counts, tables, periods, min_cell, noise)}


def _share(table: disclosure.Table, yes: int, no: int, c: int) -> dict:
    if {(yes, c), (no, c)} & table.suppressed:
        return {"value": None, "suppressed": True}
    a, b = table.cells[yes][c], table.cells[no][c]
    return {"value": round(a / (a + b), 3) if a + b > 0 else None, "suppressed": False}


def _median(hours: list[float], min_cell: int, noise: Noise | None) -> dict:
    """Shown only with at least `min_cell` first contacts; never in DP mode."""
    if noise is not None or len(hours) < min_cell:
        return {"value": None, "suppressed": noise is not None or bool(hours)}
    return {"value": round(statistics.median(hours), 1), "suppressed": False}


def _indicators(counts: Counts, tables, periods: list[str], min_cell: int, noise) -> list[dict]:
    offers, recommend = tables["first_offers"], tables["recommend"]
    medians = [_median(counts.hours_to_first_contact[p], min_cell, noise) for p in periods]
    return [
        {
            "name": "share_first_contact_within_72h",
            "title": "Share of first offers with a contact within 72 h of the incident",
            "unit": "share",
            "columns": periods,
            "cells": [_share(offers, 0, 1, c) for c in range(len(periods))],
        },
        {
            "name": "median_hours_to_first_contact",
            "title": "Median hours from incident to first contact",
            "unit": "hours",
            "columns": periods,
            "cells": medians,
        },
        {
            "name": "share_would_recommend",
            "title": "Share of ratings that would recommend the program",
            "unit": "share",
            "columns": periods,
            "cells": [_share(recommend, 0, 1, c) for c in range(len(periods))],
        },
    ]
