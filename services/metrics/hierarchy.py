"""One month's release for every audience at once, and windows assembled from months:
the figures cannot be subtracted into a person (decision 76). Pure.

A month is released once, for the region and every agency together: each measure is a
table of rows by agencies whose margins are the region's row figures and each agency's
total, suppressed as one (`disclosure`: primary, line by line, and the linear-program
audit), so the region minus the other agencies never gives a suppressed cell away. An
agency with too few officers involved that month is withheld: its whole column is
suppressed first, and the other cells suppressed until nothing pins it.

Every figure of any other window is assembled from months: a quarter's cell, a row's
total over a window, a column's total are the sums of published month cells, published
only when every month cell they add is. So no window says more than its months, and no
two overlapping windows can be subtracted into a month's suppressed cell.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable

from . import disclosure
from .domain import INCIDENT, MEASURES, REQUEST, Counts, Measure

REGION = "*"
Cell = dict  # {"value": int | float | None, "suppressed": bool}
View = dict  # one audience's figures of one month: measure -> row -> cell, and medians

SHOWN_NONE: Cell = {"value": None, "suppressed": False}
HIDDEN: Cell = {"value": None, "suppressed": True}
MEDIANS = {
    "hours_to_first_contact": lambda c, p: c.hours_to_first_contact[p],
    "minutes_to_acknowledge_request": lambda c, p: c.minutes_to_acknowledge[REQUEST][p],
    "minutes_to_acknowledge_incident": lambda c, p: c.minutes_to_acknowledge[INCIDENT][p],
}


def _cell(table: disclosure.Table, at: disclosure.Cell) -> Cell:
    if at in table.suppressed:
        return dict(HIDDEN)
    return {"value": table.value(at), "suppressed": False}


def release_month(
    period: str,
    agencies: dict[str, Counts],
    region: Counts,
    min_cell: int,
    min_agency_officers: int,
) -> dict:
    """The month's figures for the region and each agency, suppressed together."""
    names = sorted(agencies)
    withheld = sorted(a for a in names if agencies[a].officers_involved_total < min_agency_officers)
    views: dict[str, View] = {a: {} for a in [*names, REGION]}
    groups: dict[str, list[Measure]] = defaultdict(list)
    for measure in MEASURES:
        groups[measure.group or measure.name].append(measure)
    for members in groups.values():
        if members[0].additive:
            _additive(period, members, names, agencies, withheld, views, min_cell)
        else:
            for measure in members:
                _standalone(period, measure, names, agencies, region, withheld, views, min_cell)
    for audience in views:
        counts = region if audience == REGION else agencies[audience]
        views[audience]["medians"] = {
            name: median(values(counts, period), min_cell)
            if audience not in withheld
            else (dict(HIDDEN) if values(counts, period) else dict(SHOWN_NONE))
            for name, values in MEDIANS.items()
        }
    return {"period": period, "agencies": names, "withheld": withheld, "views": views}


def _additive(period, members, names, agencies, withheld, views, min_cell) -> None:
    tables = []
    for measure in members:
        cells = [
            [agencies[a].counts[measure.name][row][period] for a in names] for row in measure.rows
        ]
        table = disclosure.Table(cells or [[]])
        rows = len(measure.rows)
        for c, agency in enumerate(names):  # a withheld agency's whole column
            if agency in withheld:
                table.suppressed |= {(r, c) for r in range(rows + 1)}
        tables.append(table)
    if names:
        disclosure.suppress_together(tables, min_cell)
    for measure, table in zip(members, tables, strict=True):
        rows = len(measure.rows)
        for c, audience in enumerate([*names, REGION]):
            if not names:  # no agency counted anything this month
                views[audience][measure.name] = _zeros(measure)
                continue
            views[audience][measure.name] = {
                "rows": {row: _cell(table, (r, c)) for r, row in enumerate(measure.rows)},
                "total": _cell(table, (rows, c)),
            }


def _standalone(period, measure, names, agencies, region, withheld, views, min_cell) -> None:
    """A distinct count: no margins (officers contacted in two agencies are one in the
    region), so each cell stands alone."""
    for audience in [*names, REGION]:
        counts = region if audience == REGION else agencies[audience]
        rows = {}
        for row in measure.rows:
            value = counts.counts[measure.name][row][period]
            small = 0 < value < min_cell
            rows[row] = (
                dict(HIDDEN)
                if small or (audience in withheld and value)
                else {"value": value, "suppressed": False}
            )
        views[audience][measure.name] = {"rows": rows, "total": None}


def _zeros(measure: Measure) -> dict:
    zero = {"value": 0, "suppressed": False}
    return {"rows": {row: dict(zero) for row in measure.rows}, "total": dict(zero)}


def median(values: list[float], min_cell: int) -> Cell:
    """Shown only when at least `min_cell` values are behind it, like a count (a median
    of two would give both away). None of none is not suppressed."""
    if len(values) < min_cell:
        return dict(HIDDEN) if values else dict(SHOWN_NONE)
    return {"value": round(statistics.median(values), 1), "suppressed": False}


# Windows from months.


def add(cells: Iterable[Cell | None]) -> Cell:
    """The sum of published cells; suppressed if any is, not known if any is open."""
    cells = list(cells)
    if any(c is not None and c["suppressed"] for c in cells):
        return dict(HIDDEN)
    if any(c is None or c["value"] is None for c in cells):
        return dict(SHOWN_NONE)
    return {"value": sum(c["value"] for c in cells), "suppressed": False}


def assemble(
    audience: str,
    columns: list[str],
    months_of: dict[str, list[str]],
    releases: dict[str, dict | None],
    distinct: dict[str, Cell],
    medians: dict[str, dict[str, Cell]],
) -> dict:
    """The audience's tables and indicators over `columns` (months or quarters), each
    column the months `months_of` names, from the months' `releases` (None: open).
    `distinct` and `medians` are a quarter column's own (not sums of months)."""

    def view(month: str) -> View | None:
        body = releases[month]
        return None if body is None else body["views"].get(audience) or _empty_view(body)

    def month_cell(month: str, measure: str, row: str | None) -> Cell | None:
        figures = view(month)
        if figures is None:
            return None
        table = figures[measure]
        return table["total"] if row is None else table["rows"][row]

    def column(col: str, measure: Measure, row: str | None) -> Cell:
        months = months_of[col]
        if not measure.additive and len(months) > 1:
            return distinct.get(col, dict(SHOWN_NONE))
        return add(month_cell(m, measure.name, row) for m in months)

    tables = []
    for measure in MEASURES:
        rows = []
        for row in measure.rows:
            cells = [column(col, measure, row) for col in columns]
            total = add(cells) if measure.additive else None
            rows.append({"key": row, "cells": cells, "total": total})
        totals = [column(col, measure, None) for col in columns] if measure.additive else None
        tables.append(
            {
                "name": measure.name,
                "title": measure.title,
                "columns": columns,
                "rows": rows,
                "totals": totals,
                "total": add(totals) if totals is not None else None,
            }
        )
    by_name = {t["name"]: t for t in tables}

    def median_cells(name: str) -> list[Cell]:
        out = []
        for col in columns:
            months = months_of[col]
            if len(months) > 1:
                out.append(medians.get(col, {}).get(name, dict(SHOWN_NONE)))
            else:
                figures = view(months[0])
                out.append(dict(SHOWN_NONE) if figures is None else figures["medians"][name])
        return out

    return {"tables": tables, "indicators": _indicators(by_name, columns, median_cells)}


def _empty_view(body: dict) -> View:
    """An audience with nothing counted in a month: every figure is zero."""
    view: View = {m.name: _zeros(m) for m in MEASURES if m.additive}
    for measure in MEASURES:
        if not measure.additive:
            view[measure.name] = {
                "rows": {row: {"value": 0, "suppressed": False} for row in measure.rows},
                "total": None,
            }
    view["medians"] = {name: dict(SHOWN_NONE) for name in MEDIANS}
    return view


def share(yes: Cell, no: Cell) -> Cell:
    """`yes` of `yes + no`, from published cells only."""
    if yes["suppressed"] or no["suppressed"]:
        return dict(HIDDEN)
    if yes["value"] is None or no["value"] is None or yes["value"] + no["value"] == 0:
        return dict(SHOWN_NONE)
    return {"value": round(yes["value"] / (yes["value"] + no["value"]), 3), "suppressed": False}


INDICATORS = (
    # name, title, unit, (measure, yes row, no row) or a median's name
    (
        "share_first_contact_within_72h",
        "Share of first offers with a contact within 72 h of the incident",
        "share",
        ("first_offers", 0, 1),
    ),
    (
        "median_hours_to_first_contact",
        "Median hours from incident to first contact",
        "hours",
        "hours_to_first_contact",
    ),
    (
        "share_would_recommend",
        "Share of ratings that would recommend the program",
        "share",
        ("recommend", 0, 1),
    ),
    (
        "share_requests_acknowledged_within_deadline",
        "Officers' requests for a peer answered within the deadline",
        "share",
        ("acknowledged_requests", 0, 1),
    ),
    (
        "median_minutes_to_acknowledge_request",
        "Median minutes from an officer's request to a supporter's answer",
        "minutes",
        "minutes_to_acknowledge_request",
    ),
    (
        "share_incident_assignments_acknowledged_within_deadline",
        "Incident assignments acknowledged by the supporter within the deadline",
        "share",
        ("acknowledged_incident_assignments", 0, 1),
    ),
    (
        "median_minutes_to_acknowledge_incident_assignment",
        "Median minutes from an incident assignment to the supporter's answer",
        "minutes",
        "minutes_to_acknowledge_incident",
    ),
)


def _indicators(tables: dict, columns: list[str], median_cells) -> list[dict]:
    out = []
    for name, title, unit, source in INDICATORS:
        if isinstance(source, tuple):
            measure, yes, no = source
            rows = tables[measure]["rows"]
            cells = [
                share(rows[yes]["cells"][c], rows[no]["cells"][c]) for c in range(len(columns))
            ]
        else:
            cells = median_cells(source)
        out.append({"name": name, "title": title, "unit": unit, "columns": columns, "cells": cells})
    return out
