"""End to end: `peerline demo` fills a real `peerline up` and its incidents flow."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from peerline.demo import AGENCIES, DEMO_AGENCY, history, incidents, roster
from shared.events import CheckInScheduled, PeerAssigned
from shared.ids import incident_id_for
from shared.streams import CHECKINS, EVENTS
from shared.tokens import Role, issue_token
from tests.support.bus import EventLog
from tests.support.stack import peerline, stack_ids
from tests.support.waiting import await_until

pytestmark = pytest.mark.e2e

RELEASED_AFTER = timedelta(hours=6)  # PEERLINE_METRICS_RELEASE_AFTER_HOURS, by default
MIN_CELL, MIN_AGENCY_OFFICERS = 5, 20  # the metrics service's defaults


def last_closed(now: datetime, months: int) -> date:
    """The first day of the last period of `months` months released by `now`."""
    closed = (now - RELEASED_AFTER).date()
    start = date(closed.year, (closed.month - 1) // months * months + 1, 1)  # still open
    last = start - timedelta(days=1)
    return date(last.year, (last.month - 1) // months * months + 1, 1)


async def test_the_demo_fills_a_running_stack_and_every_incident_gets_peers_and_offers(stack):
    info, workdir, _proc = stack
    first = await asyncio.to_thread(peerline, "demo", cwd=workdir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "accepted" in first.stdout and "peerline events tail" in first.stdout
    assert "SUPPORTER_TOKEN=" in first.stdout  # a supporter with an assignment to try

    # A year of history, and where its chief sees it: the dashboard with a leadership
    # token in the fragment, and the report of the last quarter released.
    now = datetime.now(UTC)
    metrics = info["services"]["metrics"]
    quarter = last_closed(now, 3)
    assert f"{metrics}/dashboard#token=ey" in first.stdout
    assert f"{metrics}/v1/reports/{quarter.year}-Q{quarter.month // 3 + 1}" in first.stdout
    assert "still counting" not in first.stdout  # the demo waited for the metrics

    region = {agency.agency_id: roster(agency) for agency in AGENCIES}
    past = history(region, now.date())
    for agency in AGENCIES:
        mine = [i for i in past if i.agency is agency]
        officers = sum(len(i.involved) for i in mine)
        line = f"{agency.agency_id}  {len(mine)} incidents, {officers} officers involved: "
        assert f"{line}{len(mine)} accepted" in first.stdout

    # The featured agency's last closed month, as its leadership asks: real numbers,
    # above the thresholds, and every incident of the month counted in it.
    month = last_closed(now, 1)
    ends = (month + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    featured = [
        i for i in past if i.agency is DEMO_AGENCY and i.occurred_at.date().replace(day=1) == month
    ]
    secret = (workdir / ".peerline" / "jwt-secret").read_text().strip()
    leader = issue_token(secret, agency=DEMO_AGENCY.agency_id, role=Role.LEADERSHIP, sub="chief")
    async with httpx.AsyncClient(base_url=metrics) as client:
        answer = await client.get(
            "/v1/metrics",
            params={"granularity": "month", "from": str(month), "to": str(ends)},
            headers={"Authorization": f"Bearer {leader}"},
        )
    assert answer.status_code == 200, answer.text
    release = answer.json()
    assert release["periods"] == [f"{month:%Y-%m}"] and release["open"] == []
    assert release["withheld_months"] == [] and release["withheld"] is None
    totals = {t["name"]: t["totals"] for t in release["tables"]}
    assert totals["incidents"] == [{"value": len(featured), "suppressed": False}]
    officers = sum(len(i.involved) for i in featured)
    assert totals["officers_involved"] == [{"value": officers, "suppressed": False}]
    assert len(featured) >= MIN_CELL and officers > MIN_AGENCY_OFFICERS

    with stack_ids(workdir):
        wanted = {
            incident_id_for(incident.agency.agency_id, incident.external_id)
            for incident in incidents(region)
        }
    async with (
        EventLog(info["nats_url"], "ps.*.assignment.made", EVENTS.name) as assigned,
        EventLog(info["nats_url"], "ps.*.checkin.scheduled", CHECKINS.name) as scheduled,
    ):

        def covered(log: EventLog, cls: type) -> bool:  # the history's are matched too
            return wanted <= {event.incident_id for event in log.of_type(cls)}

        await await_until(lambda: covered(assigned, PeerAssigned), timeout=30, what="peers")
        await await_until(lambda: covered(scheduled, CheckInScheduled), timeout=30, what="offers")

        again = await asyncio.to_thread(peerline, "demo", cwd=workdir)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "accepted" not in again.stdout and again.stdout.count(": duplicate") == len(wanted)
        assert "0 records new, 0 updated" in again.stdout
        for agency in AGENCIES:
            mine = sum(1 for i in past if i.agency is agency)
            assert f"{agency.agency_id}  {mine} incidents" in again.stdout
            assert f"involved: {mine} duplicate\n" in again.stdout

    # The newcomer's path: the portal, with the demo's people to sign in as, and the
    # terminal of `peerline up` showing the chain move without naming anyone.
    portal = info["services"]["portal"]
    assert f"Open {portal} and sign in as one of:" in first.stdout
    people = json.loads((workdir / ".peerline" / "demo-people.json").read_text())
    labels = {p["label"]: p for p in people}
    assert "Harbor City coordinator (Dana Whitfield)" in labels
    pages = {}
    for role, page in (
        ("supporter", "/assignments"),
        ("officer", "/peers"),
        ("coordinator", "/queue"),
    ):
        person = next(p for p in people if p["role"] == role)
        async with httpx.AsyncClient(base_url=portal, follow_redirects=True) as client:
            form = await client.get("/signin")
            assert person["label"] in form.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
            chosen = f"{person['agency']}/{person['role']}/{person['subject']}"
            signed = await client.post("/signin/local", data={"csrf": csrf, "person": chosen})
            assert signed.status_code == 200 and str(signed.url).endswith(page), role
            pages[role] = signed.text
    assert "No open assignments" not in pages["supporter"]  # the first assignment's PSO
    assert "0 peers" not in pages["officer"]

    terminal = (workdir / "up.log").read_text()
    assert "incident reported" in terminal and "peer assigned" in terminal
    involved = {p for incident in incidents(region) for p, _ in incident.involved}
    assert not any(personnel_id in terminal for personnel_id in involved)
