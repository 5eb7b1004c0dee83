"""`GET /v1/reports/{period}`: the leadership report of a month or a quarter, one
printable page, as HTML or PDF.

Leadership gets its own agency's; the regional role the region's, or any agency's with
`?agency=`; every other role 403. The report is made of three releases of the same
use case as `/v1/metrics` (the period's, the previous period's and the region's of the
period), so every figure in it carries exactly the suppression `/v1/metrics` gives it
(docs/metrics.md, "Leadership report").
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, Response

from shared.auth import Principal, Role
from shared.ids import AgencyId
from shared.routes import Runtime, problems
from shared.service import ServiceRuntime

from .. import freezing, leadership, printing
from ..domain import Privacy
from ..releases import Asked, release
from .deps import Leader

router = APIRouter(prefix="/v1", tags=["reports"])

# The page holds only markup and its own styles: nothing may load from anywhere.
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


class ReportFormat(enum.StrEnum):
    HTML = "html"
    PDF = "pdf"


Period = Annotated[
    str,
    Path(description="A quarter (`2026-Q1`) or a month (`2026-03`)", examples=["2026-Q1"]),
]


@router.get(
    "/reports/{period}",
    response_class=Response,
    responses=problems(
        s403="Not a leadership or regional token, or another agency's report",
        s422="`period` is not a quarter (2026-Q1) or a month (2026-03), or a bad query",
    )
    | {200: {"content": {"text/html": {}, "application/pdf": {}}}},
    summary="The leadership report of a period: one printable page, HTML or PDF",
)
async def get_report(
    period: Period,
    caller: Leader,
    rt: Runtime,
    agency: AgencyId | None = None,
    form: Annotated[ReportFormat, Query(alias="format")] = ReportFormat.HTML,
) -> Response:
    report = await build_report(rt, caller, agency, leadership.parse_period(period))
    headers = {"Cache-Control": "no-store"}
    if form is ReportFormat.PDF:
        headers["Content-Disposition"] = f'inline; filename="{report.filename}"'
        # About a tenth of a second of drawing: off the event loop.
        document = await asyncio.to_thread(printing.pdf, report)
        return Response(document, media_type="application/pdf", headers=headers)
    headers["Content-Security-Policy"] = PAGE_POLICY
    return HTMLResponse(printing.html(report), headers=headers)


async def build_report(
    rt: ServiceRuntime, caller: Principal, agency: str | None, period: leadership.Period
) -> leadership.Report:
    asked = Asked(agency, period.window, Privacy.SUPPRESSION)
    own = await release(rt, caller, asked)  # 403 here for another agency's
    before = period.previous()
    previous = None
    if before is not None:
        previous = await release(rt, caller, replace(asked, window=before.window))
    region = None
    if own["scope"] == "agency":
        region = await release(rt, _regional(caller), replace(asked, agency=None))
    settings = rt.settings
    return leadership.report(
        period,
        own,
        previous,
        region,
        settings.metrics_goal_within_72h,
        freezing.closes_at(period.months[-1], settings.metrics_release_after_hours),
    )


def _regional(caller: Principal) -> Principal:
    """The caller reading the regional rollup, the release the regional role reads: a
    leader sees it only here, beside its own agency, as the report's comparison. It is
    released with every agency's figures in one suppression (decision 76), so one
    agency's figures beside it give away no suppressed cell."""
    return replace(caller, role=Role.REGIONAL)
