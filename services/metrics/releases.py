"""The release use case: the protected figures a caller asked for.

Suppression (the default): the window's months are read from their frozen releases
(`freezing`), suppressed for the region and every agency together, and assembled into
the window's columns (`hierarchy.assemble`): a quarter or a total is published only
where every month it adds is. Open months are not published. An agency with too few
officers involved in a month has that month withheld: its figures are part of the
regional rollup only (decision 76).

Differential privacy (the region only): a DP release first spends its epsilon from the
budget of every month in the window, then noises the window's counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.auth import Principal
from shared.errors import Conflict, Invalid
from shared.service import ServiceRuntime

from . import freezing, privacy
from .domain import (
    MEASURES,
    Granularity,
    Privacy,
    Window,
    months_of_quarter,
    periods_between,
    scope_of,
)
from .hierarchy import HIDDEN, MEDIANS, REGION, assemble, median
from .report import build, load_table
from .store import read_counts


@dataclass(frozen=True)
class Asked:
    """What a caller asked for: an agency (None: the region, or a leader's own), the
    window, and the protection."""

    agency: str | None
    window: Window
    privacy: Privacy


async def release(rt: ServiceRuntime, caller: Principal, asked: Asked) -> dict:
    """The protected figures `caller` asked for, as the JSON answer."""
    scope = scope_of(caller, asked.agency)
    window, mode, settings = asked.window, asked.privacy, rt.settings
    head = {
        "scope": "region" if scope is None else "agency",
        "agency": scope,
        "granularity": window.granularity.value,
        "from": window.start.isoformat(),
        "to": window.end.isoformat(),
        "periods": window.periods,
        "privacy": mode.value,
        "min_cell": settings.metrics_min_cell,
        "epsilon": None,
        "noise_scale": None,
        "withheld": None,
    }
    noise = None
    if mode is Privacy.DP:
        if scope is not None:
            raise Invalid("privacy", "differential privacy is for the regional rollup only")
        months = periods_between(window.start, window.end, Granularity.MONTH)
        async with rt.sessions() as session:
            try:
                await privacy.spend(
                    session, months, settings.metrics_dp_epsilon, settings.metrics_dp_budget
                )
            except privacy.BudgetSpent as spent:
                raise Conflict(
                    "The privacy budget of a period in this window is spent.",
                    periods=spent.periods,
                ) from None
            await session.commit()
        noise = privacy.noise(settings.metrics_dp_epsilon, len(MEASURES) + 1)
        head["epsilon"] = settings.metrics_dp_epsilon
    if noise is not None:
        async with rt.readers() as session:
            counts = await read_counts(session, scope, window)
        tables = len(MEASURES) + 1
        head["noise_scale"] = privacy.scale_of(settings.metrics_dp_epsilon, tables)
        return head | _noted(build(counts, settings.metrics_min_cell, noise), head, tables)
    return head | await _assembled(rt, scope, window)


async def _assembled(rt: ServiceRuntime, scope: str | None, window: Window) -> dict:
    """The suppressed release: frozen months, assembled into the window's columns."""
    settings = rt.settings
    audience = scope or REGION
    columns = window.periods
    months_of = {
        col: periods_between(_first_day(col), _first_day(col), Granularity.MONTH)
        if window.granularity is Granularity.MONTH
        else months_of_quarter(col)
        for col in columns
    }
    months = [m for col in columns for m in months_of[col]]
    releases = {m: await freezing.month(rt, m) for m in months}
    withheld = [m for m in months if releases[m] and audience in releases[m]["withheld"]]
    distinct, medians = {}, {}
    if window.granularity is Granularity.QUARTER:
        async with rt.readers() as session:
            for col in columns:
                if any(releases[m] is None for m in months_of[col]):
                    continue
                hidden = any(m in withheld for m in months_of[col])
                counts = await read_counts(session, scope, freezing_quarter(col))
                distinct[col] = _standalone(counts, col, settings.metrics_min_cell, hidden)
                medians[col] = {
                    name: HIDDEN
                    if hidden and values(counts, col)
                    else median(values(counts, col), settings.metrics_min_cell)
                    for name, values in MEDIANS.items()
                }
    async with rt.readers() as session:
        now = await read_counts(session, scope, window)  # the supporters' load, now
    answer = assemble(audience, columns, months_of, releases, distinct, medians)
    answer["tables"].append(load_table(now, settings.metrics_min_cell))
    return {
        "open": [m for m in months if releases[m] is None],
        "withheld_months": withheld,
        "withheld": WITHHELD if withheld else None,
    } | answer


def _noted(answer: dict, head: dict, tables: int) -> dict:
    """Every noisy number with its noise scale and the epsilon its table spent beside it,
    so whoever reads one number alone knows how far to trust it."""
    note = {"noise_scale": head["noise_scale"], "epsilon": head["epsilon"] / tables}
    for table in answer["tables"]:
        cells = [*(table["totals"] or []), table["total"]]
        for row in table["rows"]:
            cells += [*row["cells"], row["total"]]
        for cell in cells:
            if cell is not None and cell["value"] is not None:
                cell.update(note)
    return answer


WITHHELD = (
    "Too few officers were involved in some months to show the agency on its own; those "
    "months' figures are part of the regional rollup only."
)


def _first_day(period: str) -> date:
    return date(int(period[:4]), int(period[5:7]), 1)


def freezing_quarter(quarter: str) -> Window:
    months = months_of_quarter(quarter)
    return Window(_first_day(months[0]), freezing.month_window(months[-1]).end, Granularity.QUARTER)


def _standalone(counts, col: str, min_cell: int, hidden: bool) -> dict:
    value = counts.counts["officers_supported"]["officers"][col]
    if (hidden and value) or 0 < value < min_cell:
        return dict(HIDDEN)
    return {"value": value, "suppressed": False}
