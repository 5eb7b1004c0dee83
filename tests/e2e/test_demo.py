"""End to end: `peerline demo` fills a real `peerline up` and its incidents flow."""

from __future__ import annotations

import asyncio

import pytest

from peerline.demo import AGENCIES, incidents, roster
from shared.events import CheckInScheduled, PeerAssigned
from shared.ids import incident_id_for
from shared.streams import CHECKINS, EVENTS
from tests.e2e import test_peerline_up
from tests.e2e.test_peerline_up import peerline
from tests.support.bus import EventLog
from tests.support.waiting import await_until

pytestmark = pytest.mark.e2e

# `peerline up` in a fresh directory, as the other end-to-end tests start it.
stack = test_peerline_up.stack


async def test_the_demo_fills_a_running_stack_and_every_incident_gets_peers_and_offers(stack):
    info, workdir, _proc = stack
    first = await asyncio.to_thread(peerline, "demo", cwd=workdir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "accepted" in first.stdout and "peerline events tail" in first.stdout
    assert "SUPPORTER_TOKEN=" in first.stdout  # a supporter with an assignment to try

    region = {agency.agency_id: roster(agency) for agency in AGENCIES}
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
