"""The leader's pages: the program dashboard and a printable quarterly report, drawn
from the metrics service's protected release with the leader's own session: anonymous
figures only, small cells suppressed (no token to paste)."""

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
