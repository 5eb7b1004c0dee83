"""`GET /v1/metrics` and `GET /v1/metrics.csv`: one release, protected before it leaves.

Leadership sees its own agency; the regional role sees the region or any agency; no
other role sees anything (rules 2 and 11).
"""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter
from fastapi.responses import Response

from shared.routes import Runtime

from ..releases import release
from .deps import PROBLEMS, Leader, Release

router = APIRouter(prefix="/v1", tags=["metrics"])


@router.get(
    "/metrics",
    responses=PROBLEMS,
    summary="Program measures of an agency or the region, with suppressed cells marked",
)
async def get_metrics(caller: Leader, rt: Runtime, asked: Release) -> dict:
    return await release(rt, caller, asked)


@router.get(
    "/metrics.csv",
    responses=PROBLEMS | {200: {"content": {"text/csv": {}}}},
    response_class=Response,
    summary="The same release as CSV: one line per published or suppressed cell",
)
async def get_metrics_csv(caller: Leader, rt: Runtime, asked: Release) -> Response:
    answer = await release(rt, caller, asked)
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
