"""A release as it is published: the counted figures of a window made into tables and
indicators, protected before anyone sees them (suppressed, or noised in DP mode).
Pure."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable

from . import disclosure
from .domain import INCIDENT, LOAD_ROWS, MEASURES, REQUEST, Counts, Measure

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
    out.append(load_table(counts, min_cell, noise))
    return {"tables": out, "indicators": _indicators(counts, tables, periods, min_cell, noise)}


def load_table(counts: Counts, min_cell: int, noise: Noise | None = None) -> dict:
    """Supporters by how many assignments they hold now: a snapshot, not a period."""
    load = disclosure.Table([[counts.load[row]] for row in LOAD_ROWS])
    if noise is None:
        disclosure.suppress(load, min_cell)
    else:
        load.cells = [[noise(v) for v in row] for row in load.cells]
    return _table_json(
        "supporter_load",
        "Peer supporters by open assignments (now)",
        LOAD_ROWS,
        ["now"],
        load,
        True,
    )


def _share(table: disclosure.Table, yes: int, no: int, c: int) -> dict:
    if {(yes, c), (no, c)} & table.suppressed:
        return {"value": None, "suppressed": True}
    a, b = table.cells[yes][c], table.cells[no][c]
    return {"value": round(a / (a + b), 3) if a + b > 0 else None, "suppressed": False}


def _median(values: list[float], min_cell: int, noise: Noise | None) -> dict:
    """Shown only when at least `min_cell` values are behind it, like a count (a median
    of two would give both away); never in DP mode. None of none is not suppressed."""
    if noise is not None or len(values) < min_cell:
        return {"value": None, "suppressed": noise is not None or bool(values)}
    return {"value": round(statistics.median(values), 1), "suppressed": False}


def _indicators(counts: Counts, tables, periods: list[str], min_cell: int, noise) -> list[dict]:
    offers, recommend = tables["first_offers"], tables["recommend"]
    medians = [_median(counts.hours_to_first_contact[p], min_cell, noise) for p in periods]

    def within_deadline(measure: str) -> list[dict]:
        return [_share(tables[measure], 0, 1, c) for c in range(len(periods))]

    def minutes(kind: str) -> list[dict]:
        waits = counts.minutes_to_acknowledge[kind]
        return [_median(waits[p], min_cell, noise) for p in periods]

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
        {
            "name": "share_requests_acknowledged_within_deadline",
            "title": "Officers' requests for a peer answered within the deadline",
            "unit": "share",
            "columns": periods,
            "cells": within_deadline("acknowledged_requests"),
        },
        {
            "name": "median_minutes_to_acknowledge_request",
            "title": "Median minutes from an officer's request to a supporter's answer",
            "unit": "minutes",
            "columns": periods,
            "cells": minutes(REQUEST),
        },
        {
            "name": "share_incident_assignments_acknowledged_within_deadline",
            "title": "Incident assignments acknowledged by the supporter within the deadline",
            "unit": "share",
            "columns": periods,
            "cells": within_deadline("acknowledged_incident_assignments"),
        },
        {
            "name": "median_minutes_to_acknowledge_incident_assignment",
            "title": "Median minutes from an incident assignment to the supporter's answer",
            "unit": "minutes",
            "columns": periods,
            "cells": minutes(INCIDENT),
        },
    ]
