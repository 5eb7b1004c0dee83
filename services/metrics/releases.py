"""The release use case: the protected figures a caller asked for. A DP release first
spends its epsilon from the budget of every month in the window; an agency with too few
officers involved is withheld, its figures being part of the regional rollup only."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth import Principal
from shared.errors import Conflict, Invalid
from shared.service import ServiceRuntime

from . import privacy
from .domain import MEASURES, Granularity, Privacy, Window, periods_between, scope_of
from .report import build
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
    async with rt.readers() as session:
        counts = await read_counts(session, scope, window)
    if scope is not None and counts.officers_involved_total < settings.metrics_min_agency_officers:
        head["withheld"] = (
            "Too few officers were involved in this window to show the agency on its own; "
            "its figures are part of the regional rollup."
        )
        return head | {"tables": [], "indicators": []}
    return head | build(counts, settings.metrics_min_cell, noise)
