"""Disclosure control for published tables (rule 2): pure, no I/O.

A table is counts by row (a category) and column (a period), published with its row
totals, column totals and grand total. Two steps:

1. primary suppression: every cell, total included, holding 1 to `min_cell - 1`;
2. complementary suppression: a *line* is a row with its row total, a column with its
   column total, the totals row with the grand total, or the totals column with the
   grand total. A line with exactly one suppressed cell gives that cell away by
   subtraction (total minus the published rest), so in every such line the next-smallest
   non-zero published cell is suppressed too (a zero only when no non-zero is left);
   this repeats until no line has exactly one suppressed cell.

This is the standard line-by-line heuristic: no suppressed value is the difference of
one published total and published cells. It does not solve the linear system a
determined attacker could set up over many lines at once; the size threshold for
agencies and the DP mode are the answer where that matters.

Tables that describe one population (contacts by channel, by initiator and by outcome
share their column totals) are suppressed together: a total hidden in one is hidden in
all (`suppress_together`), or the other table would publish it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

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
        if len(hidden) != 1:
            continue
        shown = [at for at in line if at not in table.suppressed]
        if not shown:
            continue
        nonzero = [at for at in shown if table.value(at) > 0]
        pick = min(nonzero or shown, key=lambda at: (table.value(at), at))
        table.suppressed.add(pick)
        changed = True
    return changed


def suppress(table: Table, min_cell: int) -> Table:
    primary(table, min_cell)
    while complementary(table):
        pass
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
            return


def recoverable(table: Table) -> list[Cell]:
    """Suppressed cells that one line gives away by subtraction (for tests and checks)."""
    out = []
    for line in table.lines():
        hidden = [at for at in line if at in table.suppressed]
        if len(hidden) == 1:
            out.append(hidden[0])
    return out
