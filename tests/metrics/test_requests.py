"""Nobody left waiting, in the leaders' figures: officers' requests, how soon supporters
answer them and incident assignments, and how often an assignment moved or was
escalated, counted once from real NATS and suppressed like every other count."""

from __future__ import annotations

import csv
import io

from services.metrics import aggregation
from services.metrics.store import AcknowledgmentRow, FactRow
from shared.bus import Received
from shared.db import create_engine, sessionmaker
from shared.tokens import Role
from tests.metrics.scenario import (
    WINDOW,
    cell,
    count_rows,
    lines_giving_a_cell_away,
    published_cells,
    requests_counted,
    table,
)
from tests.support.clients import client


def indicators(answer: dict, period: int = 0) -> dict[str, dict]:
    return {i["name"]: i["cells"][period] for i in answer["indicators"]}


async def test_requests_and_acknowledgments_are_counted_and_small_ones_suppressed(metrics, agency):
    await requests_counted(metrics, agency)
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        answer = (await leader.get("/v1/metrics", params=WINDOW)).json()
    assert answer["withheld"] is None
    assert cell(answer, "requests_made", "made") == {"value": 7, "suppressed": False}
    assert cell(answer, "requests_cancelled", "cancelled")["suppressed"]  # 2
    assert table(answer, "requests_cancelled")["totals"][0]["suppressed"]
    # Six requests answered, all in time; the second answer of one of them is not counted.
    assert cell(answer, "acknowledged_requests", "within_deadline") == {
        "value": 6,
        "suppressed": False,
    }
    assert cell(answer, "acknowledged_requests", "late") == {"value": 0, "suppressed": False}
    # Two incident assignments, one late: both hidden, their total (2) too.
    acknowledged = "acknowledged_incident_assignments"
    assert cell(answer, acknowledged, "within_deadline")["suppressed"]
    assert cell(answer, acknowledged, "late")["suppressed"]
    assert table(answer, acknowledged)["totals"][0]["suppressed"]
    # Moves: 5 of requests beside 2 of incident assignments; the 5 hides the 2.
    assert cell(answer, "reassignments", "officer_request")["suppressed"]
    assert cell(answer, "reassignments", "incident_assignment")["suppressed"]
    assert table(answer, "reassignments")["totals"][0] == {"value": 7, "suppressed": False}
    assert cell(answer, "escalations", "officer_request")["suppressed"]  # 1
    assert cell(answer, "escalations", "incident_assignment") == {"value": 0, "suppressed": False}

    shown = indicators(answer)
    assert shown["share_requests_acknowledged_within_deadline"] == {
        "value": 1.0,
        "suppressed": False,
    }
    assert shown["median_minutes_to_acknowledge_request"] == {"value": 3.5, "suppressed": False}
    # A median of two acknowledgments would give both away.
    suppressed = {"value": None, "suppressed": True}
    assert shown["median_minutes_to_acknowledge_incident_assignment"] == suppressed
    assert shown["share_incident_assignments_acknowledged_within_deadline"] == suppressed
    # February: nothing happened, so nothing is hidden and nothing is defined.
    empty = {"value": None, "suppressed": False}
    assert indicators(answer, 1)["median_minutes_to_acknowledge_request"] == empty
    assert indicators(answer, 1)["share_requests_acknowledged_within_deadline"] == empty

    assert not [v for v in published_cells(answer) if 0 < v < 5]
    assert lines_giving_a_cell_away(answer) == []


async def test_replayed_events_count_once(metrics, agency):
    """A replay without the inbox (a new durable, a rebuilt database) writes the same
    keyed rows: not one request, acknowledgment, move or escalation more."""
    events = await requests_counted(metrics, agency)
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        before = (await leader.get("/v1/metrics", params=WINDOW)).json()
    rows = (await count_rows(metrics, FactRow), await count_rows(metrics, AcknowledgmentRow))
    url = metrics.runtime.engine.url.render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        for batch in (events, events[::-1]):  # once more in order, and once backwards
            async with sessionmaker(engine)() as session:
                await aggregation.apply_events(session, [Received(None, e) for e in batch])
                await session.commit()
    finally:
        await engine.dispose()
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        after = (await leader.get("/v1/metrics", params=WINDOW)).json()
    assert (
        await count_rows(metrics, FactRow),
        await count_rows(metrics, AcknowledgmentRow),
    ) == rows
    assert after == before


async def test_the_csv_and_the_dashboard_carry_the_new_figures(metrics, agency):
    events = await requests_counted(metrics, agency)
    async with client(metrics, agency, Role.LEADERSHIP) as leader:
        sheet = await leader.get("/v1/metrics.csv", params=WINDOW)
        charts = await leader.get("/dashboard/charts", params=WINDOW)
    lines = list(csv.DictReader(io.StringIO(sheet.text)))
    by_key = {(r["measure"], r["row"], r["period"]): r for r in lines}
    assert by_key["requests_made", "made", "2026-01"]["value"] == "7"
    assert by_key["requests_cancelled", "cancelled", "2026-01"]["suppressed"] == "true"
    assert by_key["acknowledged_requests", "within_deadline", "2026-01"]["value"] == "6"
    assert by_key["reassignments", "total", "2026-01"]["value"] == "7"
    assert by_key["escalations", "officer_request", "2026-01"]["suppressed"] == "true"
    share = by_key["share_requests_acknowledged_within_deadline", "value", "2026-01"]
    assert (share["value"], share["suppressed"]) == ("1.0", "false")
    median = by_key["median_minutes_to_acknowledge_request", "value", "2026-01"]
    assert median["value"] == "3.5"
    hidden = by_key["median_minutes_to_acknowledge_incident_assignment", "value", "2026-01"]
    assert (hidden["value"], hidden["suppressed"]) == ("", "true")

    assert charts.status_code == 200
    html = charts.text
    assert "Officers&#x27; requests for a peer answered within the deadline (%)" in html
    assert "2026-01: 100%" in html  # the share, as a chief reads it
    assert "Median minutes from an officer&#x27;s request to a supporter&#x27;s answer" in html
    assert "Officers&#x27; requests for a peer: all" in html
    assert "Assignments escalated to the coordinators, by kind" in html
    # Counts only: nothing that names a request or an assignment is published.
    ids = {
        str(getattr(e, name))
        for e in events
        for name in ("request_id", "assignment_id")
        if hasattr(e, name)
    }
    assert ids and not [i for i in ids if i in sheet.text or i in html]
