"""End to end: `peerline up` as real processes, driven the way an agency's CAD would."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys

import httpx
import nats
import pytest

from shared.events import (
    CheckInClosed,
    CheckInDue,
    IncidentReported,
    IntakeRejected,
    NotificationSent,
    PeerAssigned,
)
from shared.streams import CHECKINS, EVENTS
from shared.vocab import TrainingArea
from tests.support.bus import EventLog
from tests.support.clock import hours_ago
from tests.support.stack import env, peerline
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

AGENCY = "CA0190000"


async def test_a_cad_report_reaches_subscribers_through_the_whole_stack(stack):
    info, workdir, proc = stack
    assert set(info) >= {"nats_url", "services"}
    incidents = info["services"]["incidents"]
    ingest = peerline("token", "--agency", AGENCY, "--role", "ingest", cwd=workdir)
    assert ingest.returncode == 0, ingest.stderr
    headers = {"Authorization": f"Bearer {ingest.stdout.strip()}"}
    body = {
        "external_id": "E2E-1",
        "source_type": "SHOOT",
        "occurred_at": hours_ago(2),
        "involved": [{"personnel_id": "B1234", "role": "primary", "name": "Alex Doe"}],
        "narrative": "must not travel",
    }

    async with EventLog(info["nats_url"], f"ps.{AGENCY}.>", EVENTS.name) as log:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{incidents}/readyz")).status_code == 200
            answer = await client.post(f"{incidents}/v1/incidents", json=body, headers=headers)
            assert answer.status_code == 202, answer.text
            assert answer.json()["status"] == "accepted"
            anonymous = await client.post(f"{incidents}/v1/incidents", json=body)
            assert anonymous.status_code == 401
        nc = await nats.connect(info["nats_url"])
        await nc.jetstream().publish(f"ps.{AGENCY}.intake.incident", b'{"external_id": 7}')
        await nc.close()
        [reported] = await log.wait_for(IncidentReported, timeout=30)
        [rejected] = await log.wait_for(IntakeRejected, timeout=30)

    assert reported.incident_id.hex == answer.json()["incident_id"].replace("-", "")
    assert [(i.personnel_id, i.role) for i in reported.involved] == [("B1234", "primary")]
    assert {tuple(e.loc) for e in rejected.errors} >= {("external_id",), ("occurred_at",)}
    log_text = (workdir / ".peerline" / "logs" / "incidents.log").read_text()
    assert "B1234" not in log_text and "Alex Doe" not in log_text

    for name, url in info["services"].items():
        if name != "portal":  # the portal is pages, not an API
            assert httpx.get(f"{url}/openapi.json").status_code == 200
        # No page of the stack loads anything from a CDN: API viewers are off.
        viewer = httpx.get(f"{url}/docs")
        assert viewer.status_code in (401, 404) and "swagger" not in viewer.text.lower(), name

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    assert not (workdir / ".peerline" / "stack.json").exists()


def test_events_tail_shows_a_reported_incident(stack):
    info, workdir, _ = stack
    tail = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "peerline",
            "events",
            "tail",
            f"ps.{AGENCY}.incident.*",
            "--count",
            "1",
        ],
        cwd=workdir,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    token = peerline("token", "--agency", AGENCY, "--role", "ingest", cwd=workdir).stdout.strip()
    body = {
        "external_id": "E2E-2",
        "category": "mass_casualty",
        "occurred_at": hours_ago(2),
        "involved": [{"personnel_id": "C9", "role": "witness"}],
    }

    numbers = itertools.count()

    def reported() -> bool:
        # The tail follows new events only: report until one lands after it subscribed.
        answer = httpx.post(
            f"{info['services']['incidents']}/v1/incidents",
            json={**body, "external_id": f"E2E-2-{next(numbers)}"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 202
        try:
            tail.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return False
        return True

    wait_until(reported, timeout=60, what="events tail to print an event")
    out = tail.stdout.read()
    assert tail.returncode == 0, tail.stderr.read()
    assert "peerline.incident.reported.v1" in out
    assert f"ps.{AGENCY}.incident.reported" in out


async def test_a_reported_incident_gets_each_officer_a_peer_who_is_prompted_to_offer_support(
    stack,
):
    """A coordinator keeps a supporter on the roster; the CAD reports; the officer's
    assignment is on the bus; the late report's offer is due at once, the supporter
    is notified of both (on the console: no mail relay here), sees whom to reach and
    logs the contact, which closes the offer; and no service logged who."""
    info, workdir, _proc = stack
    roster, incidents = info["services"]["roster"], info["services"]["incidents"]
    checkins, notify = info["services"]["checkins"], info["services"]["notify"]
    tokens = {
        role: peerline("token", "--agency", AGENCY, "--role", role, cwd=workdir).stdout.strip()
        for role in ("coordinator", "ingest")
    }
    tokens["supporter"] = peerline(
        "token", "--agency", AGENCY, "--role", "supporter", "--sub", "S-9", cwd=workdir
    ).stdout.strip()
    supporter = {
        "agency_id": AGENCY,
        "personnel_id": "PSO-9",
        "display_name": "Sam Carter",
        "contact": {"email": "sam.carter@example.org"},
        "availability": {"timezone": "America/Chicago", "weekly": [], "on_call": [], "leave": []},
    }
    report = {
        "external_id": "E2E-2",
        "category": "officer_involved_shooting",
        # Reported late: the first offer (+24 h) is due at once, the +7 d follow-up is not.
        "occurred_at": hours_ago(30),
        "involved": [{"personnel_id": "B5678", "role": "primary"}],
    }
    async with EventLog(info["nats_url"], f"ps.{AGENCY}.assignment.*", EVENTS.name) as log:
        async with httpx.AsyncClient(
            headers={"Authorization": f"Bearer {tokens['coordinator']}"}
        ) as client:
            assert (await client.get(f"{roster}/readyz")).status_code == 200
            wait_until(lambda: httpx.get(f"{notify}/readyz").status_code == 200, timeout=30)
            put = await client.put(f"{roster}/v1/supporters/S-9", json=supporter)
            assert put.status_code == 201, put.text
            for area in TrainingArea:
                record = {"completed_on": "2026-01-05", "expires_on": "2099-01-05"}
                trained = await client.put(
                    f"{roster}/v1/supporters/S-9/training/{area}", json=record
                )
                assert trained.status_code in (200, 201), trained.text
            answer = await client.post(
                f"{incidents}/v1/incidents",
                json=report,
                headers={"Authorization": f"Bearer {tokens['ingest']}"},
            )
            assert answer.status_code == 202, answer.text
        [assigned] = await log.wait_for(PeerAssigned, timeout=30)
    assert (assigned.personnel_id, assigned.supporter_id) == ("B5678", "S-9")
    supporter_client = httpx.AsyncClient(
        base_url=checkins, headers={"Authorization": f"Bearer {tokens['supporter']}"}
    )
    async with (
        EventLog(info["nats_url"], f"ps.{AGENCY}.checkin.*", CHECKINS.name) as log,
        supporter_client as client,
    ):
        [due] = await log.wait_for(CheckInDue, timeout=30)  # reported late: due at once
        [mine] = (await client.get("/v1/assignments")).json()
        assert mine["personnel_id"] == "B5678"
        assert mine["current_offer"]["checkin_id"] == str(due.checkin_id)
        contact = {
            "checkin_id": str(due.checkin_id),
            "initiated_by": "scheduled_checkin",
            "channel": "in_person",
            "duration_bucket": "30_60m",
            "outcome": "support_provided",
            "resources_offered": [],
        }
        assert (await client.post("/v1/contacts", json=contact)).status_code == 201
        [closed] = await log.wait_for(CheckInClosed, timeout=30)
    assert closed.outcome == "contacted"
    async with EventLog(info["nats_url"], f"ps.{AGENCY}.notification.*", EVENTS.name) as log:
        sent = await log.wait_for(NotificationSent, count=2, timeout=30)
    assert {(e.recipient_id, e.channel) for e in sent} == {("S-9", "console")}
    assert {e.cause_event_id for e in sent} == {assigned.event_id, due.event_id}
    notified = (workdir / ".peerline" / "logs" / "notify.log").read_text()
    assert "notification assignment, reference" in notified
    assert "notification checkin_due, reference" in notified
    for service in ("incidents", "roster", "checkins", "notify"):
        text = (workdir / ".peerline" / "logs" / f"{service}.log").read_text()
        assert "B5678" not in text and "sam.carter" not in text


def test_every_file_of_the_stack_is_its_owners_alone(stack):
    """Databases, logs, keys and the NATS store: files 0600, folders 0700, including a
    data folder and a file that existed before `peerline up`."""
    _, workdir, _ = stack
    data = workdir / ".peerline"
    wait_until(lambda: list(data.glob("*.db")), timeout=30, what="the databases")
    paths = [data, *data.rglob("*")]
    assert any(p.name == "notes.txt" for p in paths) and any(p.suffix == ".db" for p in paths)
    opened = {
        str(p.relative_to(workdir)): oct(p.stat().st_mode & 0o777)
        for p in paths
        if not p.is_symlink() and p.stat().st_mode & 0o077
    }
    assert opened == {}
