"""End to end: `peerline demo` fills a real `peerline up` and its incidents flow."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from peerline.demo import AGENCIES, incidents, roster
from shared.events import CheckInScheduled, PeerAssigned
from shared.ids import incident_id_for
from shared.streams import CHECKINS, EVENTS
from tests.support.bus import EventLog
from tests.support.stack import peerline, stack_ids
from tests.support.waiting import await_until

pytestmark = pytest.mark.e2e


async def test_the_demo_fills_a_running_stack_and_every_incident_gets_peers_and_offers(stack):
    info, workdir, _proc = stack
    first = await asyncio.to_thread(peerline, "demo", cwd=workdir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "accepted" in first.stdout and "peerline events tail" in first.stdout
    assert "SUPPORTER_TOKEN=" in first.stdout  # a supporter with an assignment to try

    region = {agency.agency_id: roster(agency) for agency in AGENCIES}
    with stack_ids(workdir):
        wanted = {
            incident_id_for(incident.agency.agency_id, incident.external_id)
            for incident in incidents(region)
        }
    async with (
        EventLog(info["nats_url"], "ps.*.assignment.made", EVENTS.name) as assigned,
        EventLog(info["nats_url"], "ps.*.checkin.scheduled", CHECKINS.name) as scheduled,
    ):

        def covered(log: EventLog, cls: type) -> bool:
            return {event.incident_id for event in log.of_type(cls)} == wanted

        await await_until(lambda: covered(assigned, PeerAssigned), timeout=30, what="peers")
        await await_until(lambda: covered(scheduled, CheckInScheduled), timeout=30, what="offers")

        again = await asyncio.to_thread(peerline, "demo", cwd=workdir)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "accepted" not in again.stdout and again.stdout.count(": duplicate") == len(wanted)
        assert "0 records new, 0 updated" in again.stdout

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
