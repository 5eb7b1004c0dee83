"""Disclosure control: no published cell from 1 to min_cell - 1, and no suppressed cell
recoverable by subtraction from a published total, for any table."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.metrics import disclosure
from services.metrics.disclosure import Table
from tests.support.examples import examples

pytestmark = pytest.mark.unit

counts = st.one_of(st.integers(0, 6), st.integers(0, 200))
tables = st.integers(1, 6).flatmap(
    lambda cols: st.lists(st.lists(counts, min_size=cols, max_size=cols), min_size=1, max_size=8)
)


def _published_small(table: Table, min_cell: int) -> list:
    return [
        at
        for at in table.all_cells()
        if at not in table.suppressed and 0 < table.value(at) < min_cell
    ]


@settings(max_examples=examples(400), deadline=None)
@given(cells=tables, min_cell=st.integers(2, 11))
def test_no_small_cell_is_shown_and_none_is_recoverable_from_a_total(cells, min_cell):
    table = disclosure.suppress(Table(cells), min_cell)
    assert _published_small(table, min_cell) == []
    assert disclosure.recoverable(table) == []


@settings(max_examples=examples(200), deadline=None)
@given(
    data=st.data(),
    cols=st.integers(1, 5),
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=3),
)
def test_tables_of_one_population_hide_the_same_totals(data, cols, sizes):
    """Contacts by channel and by initiator share their column totals: a total hidden in
    one must not be published by the other."""
    shared_totals = data.draw(st.lists(st.integers(0, 40), min_size=cols, max_size=cols))
    group = []
    for rows in sizes:
        cells = [[0] * cols for _ in range(rows)]
        for c, total in enumerate(shared_totals):  # split each total over the rows
            cuts = sorted(
                data.draw(st.lists(st.integers(0, total), min_size=rows - 1, max_size=rows - 1))
            )
            parts = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
            for r, part in enumerate(parts):
                cells[r][c] = part
        group.append(Table(cells))
    disclosure.suppress_together(group, 5)
    hidden = [{c for (r, c) in t.suppressed if r == t.rows} for t in group]
    assert all(h == hidden[0] for h in hidden)
    for table in group:
        assert _published_small(table, 5) == []
        assert disclosure.recoverable(table) == []


@settings(max_examples=examples(150), deadline=None)
@given(cells=tables, min_cell=st.integers(2, 6))
def test_no_small_cell_is_pinned_by_all_the_lines_at_once(cells, min_cell):
    """The attacker's linear program over every line and every published cell, counts
    never below zero, fixes no suppressed small cell to one value."""
    table = disclosure.suppress(Table(cells), min_cell)
    assert disclosure.pinned([table], min_cell) == []


def test_the_audit_widens_what_the_line_by_line_heuristic_leaves_pinned():
    """A table where every line has two suppressed cells, yet the 1 at (1, 2) is fixed by
    all the lines together (found by the audit on random tables)."""
    cells = [[0, 13, 0, 3], [8, 1, 1, 40], [2, 0, 2, 40]]
    heuristic = Table([row[:] for row in cells])
    disclosure.primary(heuristic, 5)
    while disclosure.complementary(heuristic):
        pass
    assert disclosure.recoverable(heuristic) == []
    assert disclosure.pinned([heuristic], 5) != []
    audited = disclosure.suppress(Table([row[:] for row in cells]), 5)
    assert disclosure.pinned([audited], 5) == []


def test_a_lone_small_cell_takes_its_row_and_column_partners_with_it():
    table = disclosure.suppress(Table([[6, 9], [1, 8]]), 5)
    assert (1, 0) in table.suppressed  # the 1
    assert (0, 0) in table.suppressed  # 6: else column 0's total 7 gives the 1 away
    assert (1, 1) in table.suppressed  # 8: else row 1's total 9 gives it away
    assert disclosure.recoverable(table) == []


def test_zeros_and_large_counts_are_published_as_they_are():
    table = disclosure.suppress(Table([[0, 12], [7, 0]]), 5)
    assert table.suppressed == set()
