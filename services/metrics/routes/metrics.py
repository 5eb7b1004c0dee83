"""`GET /v1/metrics` and `GET /v1/metrics.csv`: one release, protected before it leaves.

Leadership sees its own agency; the regional role sees the region or any agency; no
other role sees anything (rules 2 and 11).
"""

from __future__ import annotations

import csv
import enum
import io
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from shared.auth import Principal, Role, require_role
from shared.ids import AgencyId
from shared.problems import Problem
from shared.routes import Runtime, invalid, problems
from shared.service import ServiceRuntime

from .. import privacy
from ..periods import Granularity, periods_between
from ..report import MEASURES, Window, build, read_counts

router = APIRouter(prefix="/v1", tags=["metrics"])

PROBLEMS = problems(
    s403="Not a leadership or regional token, or another agency's figures",
    s409="The privacy budget of a period in the window is spent",
)
MAX_DAYS = 5 * 366

Leader = Annotated[Principal, Depends(require_role(Role.LEADERSHIP, Role.REGIONAL))]


class Privacy(enum.StrEnum):
    SUPPRESSION = "suppression"  # small cells suppressed, with complementary cells
    DP = "dp"  # differentially private counts (regional publication only)


def scope_of(caller: Principal, agency: str | None) -> str | None:
    """The agency whose figures `caller` gets, or None for the region."""
    if caller.role is Role.LEADERSHIP:
        if agency not in (None, caller.agency):
            raise Problem(403, "Forbidden", "Leadership sees its own agency's figures only.")
        return caller.agency
    return agency


def window_of(start: date | None, end: date | None, granularity: Granularity) -> Window:
    """The request's window, widened to whole periods; by default the last twelve months."""
    today = datetime.now(UTC).date()
    end = end or today
    start = start or (end.replace(day=1) - timedelta(days=335)).replace(day=1)
    if start > end:
        raise invalid("from", "must not be after `to`")
    if (end - start).days > MAX_DAYS:
        raise invalid("from", "the window is at most five years")
    step = 1 if granularity is Granularity.MONTH else 3
    first = date(start.year, (start.month - 1) // step * step + 1, 1)
    last_month = ((end.month - 1) // step + 1) * step  # the last month of `end`'s period
    after = date(end.year + (last_month == 12), last_month % 12 + 1, 1)
    return Window(first, after - timedelta(days=1), granularity)


async def release(
    rt: ServiceRuntime, caller: Principal, agency: str | None, window: Window, mode: Privacy
) -> dict:
    """The protected figures `caller` asked for, as the JSON answer."""
    scope = scope_of(caller, agency)
    settings = rt.settings
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
            raise invalid("privacy", "differential privacy is for the regional rollup only")
        months = periods_between(window.start, window.end, Granularity.MONTH)
        async with rt.sessions() as session:
            try:
                await privacy.spend(
                    session, months, settings.metrics_dp_epsilon, settings.metrics_dp_budget
                )
            except privacy.BudgetSpent as spent:
                raise Problem(
                    409,
                    "Conflict",
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


Start = Annotated[date | None, Query(alias="from", description="First day (inclusive)")]
End = Annotated[date | None, Query(alias="to", description="Last day (inclusive)")]


@router.get(
    "/metrics",
    responses=PROBLEMS,
    summary="Program measures of an agency or the region, with suppressed cells marked",
)
async def get_metrics(
    caller: Leader,
    rt: Runtime,
    agency: AgencyId | None = None,
    start: Start = None,
    end: End = None,
    granularity: Granularity = Granularity.MONTH,
    privacy: Privacy = Privacy.SUPPRESSION,
) -> dict:
    return await release(rt, caller, agency, window_of(start, end, granularity), privacy)


@router.get(
    "/metrics.csv",
    responses=PROBLEMS | {200: {"content": {"text/csv": {}}}},
    response_class=Response,
    summary="The same release as CSV: one line per published or suppressed cell",
)
async def get_metrics_csv(
    caller: Leader,
    rt: Runtime,
    agency: AgencyId | None = None,
    start: Start = None,
    end: End = None,
    granularity: Granularity = Granularity.MONTH,
    privacy: Privacy = Privacy.SUPPRESSION,
) -> Response:
    answer = await release(rt, caller, agency, window_of(start, end, granularity), privacy)
    return Response(to_csv(answer), media_type="text/csv; charset=utf-8")


def to_csv(answer: dict) -> str:
    """`scope,agency,measure,row,period,value,suppressed`; totals as row or period
    `total`; an empty value is suppressed or not defined."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["scope", "agency", "measure", "row", "period", "value", "suppressed"])
    lead = [answer["scope"], answer["agency"] or ""]

    def line(measure: str, row: str, period: str, cell: dict | None) -> None:
        if cell is not None:
            value = "" if cell["value"] is None else cell["value"]
            writer.writerow([*lead, measure, row, period, value, str(cell["suppressed"]).lower()])

    for table in answer["tables"]:
        columns = table["columns"]
        for row in table["rows"]:
            for period, cell in zip(columns, row["cells"], strict=True):
                line(table["name"], row["key"], period, cell)
            line(table["name"], row["key"], "total", row["total"])
        for period, cell in zip(columns, table["totals"] or [], strict=False):
            line(table["name"], "total", period, cell)
        line(table["name"], "total", "total", table["total"])
    for indicator in answer["indicators"]:
        for period, cell in zip(indicator["columns"], indicator["cells"], strict=True):
            line(indicator["name"], "value", period, cell)
    return out.getvalue()
