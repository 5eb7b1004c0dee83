"""Differential privacy for regional publication (OpenDP), and the budget it spends.

Unit of privacy: one counted event (an incident, a contact, a rating...). Within one
table such an event moves one cell by one, so each table has L1 sensitivity 1; a release
of `tables` tables splits its epsilon evenly over them (sequential composition) and adds
discrete Laplace noise of scale `tables / epsilon` to every cell. OpenDP builds the
mechanism and its privacy map is checked against the share it must stay within.

Each release about a period spends its epsilon from that period's ledger; a release
that would take any period in its window past the budget is refused, so repeating a
query cannot average the noise away.
"""

from __future__ import annotations

from collections.abc import Iterable

import opendp.prelude as dp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import upsert_insert

from .store import LedgerRow

dp.enable_features("contrib")


class BudgetSpent(Exception):
    """The release would spend more privacy budget than a period has left."""

    def __init__(self, periods: list[str]) -> None:
        super().__init__(", ".join(periods))
        self.periods = periods


def scale_of(epsilon: float, tables: int) -> float:
    """The Laplace scale each count of a release gets: its epsilon split over its
    tables, each of sensitivity 1."""
    return tables / epsilon


def noise(epsilon: float, tables: int):
    """A function adding the release's noise to one count (never below zero)."""
    scale = scale_of(epsilon, tables)
    mechanism = dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale)
    assert mechanism.map(1) <= epsilon / tables + 1e-12  # each table within its share

    def add(count: int) -> int:
        return max(0, mechanism(count))

    return add


async def spend(
    session: AsyncSession, periods: Iterable[str], epsilon: float, budget: float
) -> None:
    """Record `epsilon` against every period, or raise `BudgetSpent` changing nothing.

    Replicas releasing at once must not both spend the last of a budget: the periods'
    rows are written first (SQLite then holds its one write lock until the commit) and
    read `FOR UPDATE` (PostgreSQL locks them until the commit), so a second release
    reads what the first spent."""
    periods = sorted(set(periods))
    insert = upsert_insert(session)(LedgerRow)
    await session.execute(
        insert.on_conflict_do_nothing(index_elements=["period"]),
        [{"period": p, "spent": 0.0} for p in periods],
    )
    spent = dict(
        (
            await session.execute(
                select(LedgerRow.period, LedgerRow.spent)
                .where(LedgerRow.period.in_(periods))
                .with_for_update()
            )
        ).all()
    )
    over = [p for p in periods if spent.get(p, 0.0) + epsilon > budget + 1e-9]
    if over:
        raise BudgetSpent(over)
    stmt = insert.on_conflict_do_update(
        index_elements=["period"], set_={"spent": LedgerRow.spent + insert.excluded.spent}
    )
    await session.execute(stmt, [{"period": p, "spent": epsilon} for p in periods])
