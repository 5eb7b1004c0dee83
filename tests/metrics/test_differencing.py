"""Releases cannot be subtracted into a person (decision 76): whatever windows,
granularities and audiences a leader or the region asks for, no combination of the
numbers published pins a count from 1 to 4. Pure: the months' releases and the windows
assembled from them, audited with the attacker's own linear program."""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from services.metrics.domain import Counts
from services.metrics.hierarchy import REGION, assemble, release_month
from tests.support.examples import examples

pytestmark = pytest.mark.unit

MONTHS = ["2026-10", "2026-11", "2026-12"]
QUARTER = "2026-Q4"
ROWS = ["officer_involved_shooting", "line_of_duty_death", "mass_casualty"]
MIN_CELL, MIN_OFFICERS = 5, 10


def releases_of(counts: dict[tuple[str, str, str], int], officers: dict[tuple[str, str], int]):
    """Each month's release from counts by (agency, category, month)."""
    agencies = sorted({a for a, _, _ in counts})
    out = {}
    for month in MONTHS:
        per_agency = {}
        region = Counts([month])
        for agency in agencies:
            mine = Counts([month])
            for row in ROWS:
                n = counts.get((agency, row, month), 0)
                mine.add("incidents", row, month, n)
                region.add("incidents", row, month, n)
            mine.officers_involved_total = officers.get((agency, month), 0)
            per_agency[agency] = mine
        out[month] = release_month(month, per_agency, region, MIN_CELL, MIN_OFFICERS)
    return out


def windows() -> list[tuple[list[str], dict[str, list[str]]]]:
    """Every window a caller can ask for in the quarter: runs of months, and the quarter."""
    out = []
    for i in range(len(MONTHS)):
        for j in range(i, len(MONTHS)):
            columns = MONTHS[i : j + 1]
            out.append((columns, {m: [m] for m in columns}))
    out.append(([QUARTER], {QUARTER: MONTHS}))
    return out


def published(releases, agencies) -> list[tuple[set, int]]:
    """Every number any audience can read, as (the true cells it adds up, its value)."""
    found = []
    for audience, (columns, months_of) in product([*agencies, REGION], windows()):
        answer = assemble(audience, columns, months_of, releases, {}, {})
        [incidents] = [t for t in answer["tables"] if t["name"] == "incidents"]
        whose = agencies if audience == REGION else [audience]

        def cells(rows, cols, whose=whose, months_of=months_of):
            return {(a, r, m) for a in whose for r in rows for c in cols for m in months_of[c]}

        shown = []
        for row in incidents["rows"]:
            rows = [row["key"]] if row["key"] in ROWS else []
            for c, cell in enumerate(row["cells"]):
                shown.append((cells(rows, [columns[c]]), cell))
            shown.append((cells(rows, columns), row["total"]))
        for c, cell in enumerate(incidents["totals"]):
            shown.append((cells(ROWS, [columns[c]]), cell))
        shown.append((cells(ROWS, columns), incidents["total"]))
        found += [(s, cell["value"]) for s, cell in shown if not cell["suppressed"]]
    return found


def pinned(counts, agencies, found) -> list[tuple]:
    """True cells from 1 to 4 whose value the published numbers fix."""
    variables = [(a, r, m) for a in agencies for r in ROWS for m in MONTHS]
    index = {v: i for i, v in enumerate(variables)}
    matrix = np.zeros((len(found), len(variables)))
    for i, (cells, _) in enumerate(found):
        for v in cells:
            matrix[i, index[v]] = 1.0
    sums = np.array([float(value) for _, value in found])
    out = []
    for v in variables:
        if not 0 < counts.get(v, 0) < MIN_CELL:
            continue
        objective = np.zeros(len(variables))
        objective[index[v]] = 1.0
        low = linprog(objective, A_eq=matrix, b_eq=sums, bounds=(0, None), method="highs")
        high = linprog(-objective, A_eq=matrix, b_eq=sums, bounds=(0, None), method="highs")
        if low.status == high.status == 0 and (
            math.ceil(low.fun - 1e-6) >= math.floor(-high.fun + 1e-6)
        ):
            out.append((v, counts[v]))
    return out


def test_the_attack_that_differenced_two_windows_finds_nothing():
    """October's 2 was suppressed; October to December once published 35 and November
    to December 33. Now a window's total is published only where every month is."""
    counts = {
        ("A", "line_of_duty_death", "2026-10"): 2,
        ("A", "officer_involved_shooting", "2026-10"): 9,
        ("A", "line_of_duty_death", "2026-11"): 13,
        ("A", "line_of_duty_death", "2026-12"): 20,
        ("B", "officer_involved_shooting", "2026-10"): 12,
        ("B", "line_of_duty_death", "2026-11"): 7,
    }
    officers = {(a, m): 50 for a in "AB" for m in MONTHS}
    releases = releases_of(counts, officers)
    found = published(releases, ["A", "B"])
    assert pinned(counts, ["A", "B"], found) == []
    october = assemble("A", MONTHS, {m: [m] for m in MONTHS}, releases, {}, {})
    [incidents] = [t for t in october["tables"] if t["name"] == "incidents"]
    [death] = [row for row in incidents["rows"] if row["key"] == "line_of_duty_death"]
    assert death["cells"][0]["suppressed"] and death["total"]["suppressed"]


def test_the_region_minus_the_other_agencies_gives_no_withheld_agency_away():
    counts = {
        ("A", "officer_involved_shooting", "2026-10"): 3,  # A is withheld: 3 officers
        ("B", "officer_involved_shooting", "2026-10"): 30,
        ("C", "officer_involved_shooting", "2026-10"): 12,
    }
    officers = {("A", "2026-10"): 3, ("B", "2026-10"): 40, ("C", "2026-10"): 25}
    releases = releases_of(counts, officers)
    assert releases["2026-10"]["withheld"] == ["A"]
    assert pinned(counts, ["A", "B", "C"], published(releases, ["A", "B", "C"])) == []


cells = st.dictionaries(
    st.tuples(st.sampled_from("AB"), st.sampled_from(ROWS), st.sampled_from(MONTHS)),
    st.one_of(st.integers(0, 4), st.integers(0, 30)),
    max_size=12,
)
sizes = st.dictionaries(
    st.tuples(st.sampled_from("AB"), st.sampled_from(MONTHS)), st.integers(0, 30), max_size=6
)


@settings(max_examples=examples(40), deadline=None)
@given(counts=cells, officers=sizes)
def test_no_combination_of_published_numbers_pins_a_small_count(counts, officers):
    agencies = sorted({a for a, _, _ in counts}) or ["A"]
    releases = releases_of(counts, officers)
    assert pinned(counts, agencies, published(releases, agencies)) == []
