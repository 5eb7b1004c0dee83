"""Disclosure control for published tables (rule 2): pure, no I/O.

A table is counts by row (a category) and column (a period), published with its row
totals, column totals and grand total. Two steps:

1. primary suppression: every cell, total included, holding 1 to `min_cell - 1`;
2. complementary suppression: a *line* is a row with its row total, a column with its
   column total, the totals row with the grand total, or the totals column with the
   grand total. A line with exactly one suppressed non-zero cell gives that cell away by
   subtraction (total minus the published rest), so in every such line the next-smallest
   non-zero published cell is suppressed too (a zero only when no non-zero is left);
   this repeats until no line has exactly one. (A withheld agency's zero may be given
   away: it names no one.)

This is the standard line-by-line heuristic: no suppressed value is the difference of
one published total and published cells. It is not enough on its own: an attacker who
sets up every line of a table at once (a linear program over the published cells, the
lines' sums and counts never below zero) can still pin some suppressed cells, about one
table in sixty of random small tables. So the heuristic is followed by an audit:

3. for every suppressed cell holding 1 to `min_cell - 1`, the smallest and largest
   value it can take given everything published (`linprog`) are worked out; a cell
   they pin to one whole number takes the smallest published non-zero cell of one of
   its lines with it, and the audit runs again until no small cell is pinned.

Tables that describe one population (contacts by channel, by initiator and by outcome
share their column totals) are suppressed together: a total hidden in one is hidden in
all (`suppress_together`), or the other table would publish it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog

Cell = tuple[int, int]  # (row, column); row == rows means the totals row, etc.


@dataclass
class Table:
    """Counts by row and column, with margins computed here so they always agree."""

    cells: list[list[int]]
    suppressed: set[Cell] = field(default_factory=set)

    @property
    def rows(self) -> int:
        return len(self.cells)

    @property
    def columns(self) -> int:
        return len(self.cells[0]) if self.cells else 0

    def value(self, at: Cell) -> int:
        r, c = at
        if r < self.rows and c < self.columns:
            return self.cells[r][c]
        if r < self.rows:  # row total
            return sum(self.cells[r])
        if c < self.columns:  # column total
            return sum(row[c] for row in self.cells)
        return sum(map(sum, self.cells))  # grand total

    def lines(self) -> list[list[Cell]]:
        """Every line whose cells add up to its last cell (a total)."""
        rows, cols = self.rows, self.columns
        out = [[(r, c) for c in range(cols + 1)] for r in range(rows + 1)]
        out += [[(r, c) for r in range(rows + 1)] for c in range(cols + 1)]
        return out

    def all_cells(self) -> list[Cell]:
        return [(r, c) for r in range(self.rows + 1) for c in range(self.columns + 1)]


def primary(table: Table, min_cell: int) -> None:
    for at in table.all_cells():
        if 0 < table.value(at) < min_cell:
            table.suppressed.add(at)


def complementary(table: Table) -> bool:
    """One pass over every line; whether anything more was suppressed."""
    changed = False
    for line in table.lines():
        hidden = [at for at in line if at in table.suppressed]
        if len(hidden) != 1 or table.value(hidden[0]) == 0:
            continue  # a zero given away names no one (the audit still checks the rest)
        shown = [at for at in line if at not in table.suppressed]
        if not shown:
            continue
        nonzero = [at for at in shown if table.value(at) > 0]
        pick = min(nonzero or shown, key=lambda at: (table.value(at), at))
        table.suppressed.add(pick)
        changed = True
    return changed


def suppress(table: Table, min_cell: int) -> Table:
    suppress_together([table], min_cell)
    return table


def suppress_together(tables: Sequence[Table], min_cell: int) -> None:
    """Suppress tables that share their column totals (the totals row) so that a
    column total hidden in one is hidden in each."""
    for table in tables:
        primary(table, min_cell)
    while True:
        changed = False
        for table in tables:
            while complementary(table):
                changed = True
        shared = {c for t in tables for (r, c) in t.suppressed if r == t.rows}
        for table in tables:
            forced = {(table.rows, c) for c in shared} - table.suppressed
            if forced:
                table.suppressed |= forced
                changed = True
        if not changed:
            changed = _widen_pinned(tables, min_cell)
        if not changed:
            return


def pinned(tables: Sequence[Table], min_cell: int = 10**9) -> list[tuple[int, Cell]]:
    """Suppressed cells below `min_cell` (table index, cell) that what is published fixes
    to one whole number: the attacker's linear program over every line of every table,
    counts never below zero, tables of one group sharing their column totals."""
    index: dict[tuple[int, Cell], int] = {}
    for t, table in enumerate(tables):
        for at in table.all_cells():
            index[t, at] = len(index)
    equations: list[tuple[dict[int, float], float]] = []
    for t, table in enumerate(tables):
        for line in table.lines():
            terms = {index[t, at]: 1.0 for at in line[:-1]}
            terms[index[t, line[-1]]] = -1.0
            equations.append((terms, 0.0))
        for at in table.all_cells():
            if at not in table.suppressed:
                equations.append(({index[t, at]: 1.0}, float(table.value(at))))
        if t:  # one population: the same column totals
            for c in range(table.columns + 1):
                terms = {index[t, (table.rows, c)]: 1.0, index[0, (tables[0].rows, c)]: -1.0}
                equations.append((terms, 0.0))
    matrix = np.zeros((len(equations), len(index)))
    for i, (terms, _) in enumerate(equations):
        for j, coefficient in terms.items():
            matrix[i, j] = coefficient
    sums = np.array([value for _, value in equations])
    found = []
    for t, table in enumerate(tables):
        for at in sorted(table.suppressed):
            if not 0 < table.value(at) < min_cell:
                continue
            objective = np.zeros(len(index))
            objective[index[t, at]] = 1.0
            low = linprog(objective, A_eq=matrix, b_eq=sums, bounds=(0, None), method="highs")
            high = linprog(-objective, A_eq=matrix, b_eq=sums, bounds=(0, None), method="highs")
            bounded = low.status == 0 and high.status == 0
            if bounded and math.ceil(low.fun - 1e-6) >= math.floor(-high.fun + 1e-6):
                found.append((t, at))
    return found


def _widen_pinned(tables: Sequence[Table], min_cell: int) -> bool:
    """Suppress one more cell beside each small cell the audit finds pinned."""
    widened = False
    for t, at in pinned(tables, min_cell):
        table = tables[t]
        shown = [o for o in table.all_cells() if o not in table.suppressed]
        near = [o for line in table.lines() if at in line for o in line if o in shown]
        # A non-zero partner in one of its lines; else a zero there; else any cell.
        choices = [o for o in near if table.value(o) > 0] or near or shown
        if choices:
            table.suppressed.add(
                min(choices, key=lambda o: (table.value(o) == 0, table.value(o), o))
            )
            widened = True
    return widened


def recoverable(table: Table) -> list[Cell]:
    """Suppressed non-zero cells that one line gives away by subtraction (for tests and
    checks); a zero given away names no one."""
    out = []
    for line in table.lines():
        hidden = [at for at in line if at in table.suppressed]
        if len(hidden) == 1 and table.value(hidden[0]) != 0:
            out.append(hidden[0])
    return out
