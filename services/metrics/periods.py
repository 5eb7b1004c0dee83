"""Reporting periods: calendar months and quarters in UTC, named `2026-03` and
`2026-Q1`. Pure."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime


class Granularity(enum.StrEnum):
    MONTH = "month"
    QUARTER = "quarter"


def period_of(moment: datetime | date, granularity: Granularity) -> str:
    if granularity is Granularity.MONTH:
        return f"{moment.year:04d}-{moment.month:02d}"
    return f"{moment.year:04d}-Q{(moment.month - 1) // 3 + 1}"


def periods_between(start: date, end: date, granularity: Granularity) -> list[str]:
    """Every period from the one holding `start` to the one holding `end`, in order."""
    step = 1 if granularity is Granularity.MONTH else 3
    year, month = start.year, (start.month - 1) // step * step + 1
    out = []
    while (year, month) <= (end.year, end.month):
        out.append(period_of(date(year, month, 1), granularity))
        month += step
        if month > 12:
            year, month = year + 1, month - 12
    return out


def quarter_end(period: str) -> datetime:
    """The first instant after the quarter `period` (`2026-Q1` ends 2026-04-01)."""
    year, quarter = int(period[:4]), int(period[-1])
    month = quarter * 3 + 1
    if month > 12:
        return datetime(year + 1, 1, 1, tzinfo=UTC)
    return datetime(year, month, 1, tzinfo=UTC)


def months_of_quarter(period: str) -> list[str]:
    year, quarter = int(period[:4]), int(period[-1])
    return [f"{year:04d}-{m:02d}" for m in range(quarter * 3 - 2, quarter * 3 + 1)]
