"""The leader's pages: the program dashboard and a printable quarterly report, drawn
from the metrics service's protected release with the leader's own session: anonymous
figures only, small cells suppressed (no token to paste).

The dashboard is opened here, from the leader's navigation, not by a link to the metrics
service's own page: the portal asks for the charts with the short-lived token it signs
for the leader (`backend`), so no token ever reaches the browser, and the metrics
service need not be reachable from it (in a region it listens on the admin network
only). Its page, `/dashboard#token=…` (decision 0041), is for a local stack and
operators (docs/metrics.md). The charts carry whose figures they are and which months,
their key and legends (`services/metrics/charts.py`); the portal's style sheet draws
them, as its policy lets no style into a page inline.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from ..web import Leader, backend, render

router = APIRouter()


@router.get("/dashboard", include_in_schema=False)
async def dashboard(request: Request, person: Leader) -> Response:
    response = await backend(request).request(
        person, "metrics", "GET", "/dashboard/charts", params={"granularity": "month"}
    )
    # The metrics service draws the charts as SVG from its own numbers; no input of
    # anyone's reaches this markup.
    return render(request, "dashboard.html", {"charts": Markup(response.text)})


@router.get("/report", include_in_schema=False)
async def report(request: Request, person: Leader) -> Response:
    """This year's quarters so far, one table per measure, to print on one page."""
    today = datetime.now(UTC).date()
    params = {"granularity": "quarter", "from": f"{today.year}-01-01", "to": today.isoformat()}
    figures = await backend(request).get(person, "metrics", "/v1/metrics", params=params)
    return render(request, "report.html", {"m": figures, "year": today.year})
