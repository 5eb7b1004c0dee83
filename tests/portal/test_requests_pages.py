"""Ask for a peer, "I'll reach them by ..." and the coordinator's waiting list, page by
page over real HTTP, against a roster and check-ins that answer in memory
(tests/support/portal_fakes.py): what each page shows, and exactly what the portal
sends, as whom. The whole stack in a browser: test_requests_browser.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.portal import csrf_of, portal_settings, sign_in
from tests.support.portal_fakes import FakeServices, fake_services
from tests.support.server import ThreadedServer

ASSIGNMENT = "5b7d1c3e-0000-4000-8000-000000000001"


@pytest.fixture
def fake() -> FakeServices:
    return FakeServices()


@pytest.fixture
def portal_url(fake, serve_portal, tmp_path) -> Iterator[str]:
    services = ThreadedServer(fake_services(fake)).start()
    settings = portal_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}",
        roster_url=services.url,
        checkins_url=services.url,
    )
    yield serve_portal(settings).url
    services.stop()


def _post(client: httpx.Client, page: str, action: str, **form) -> httpx.Response:
    return client.post(action, data={"csrf": csrf_of(client.get(page)), **form})


def test_an_officer_asks_with_a_few_choices_and_nothing_to_type(fake, portal_url, agency):
    with httpx.Client(base_url=portal_url) as client:
        sign_in(client, agency, "officer", "B-9")
        page = client.get("/ask")
        assert page.status_code == 200
        assert "Your agency's leadership never sees who asked." in page.text
        assert 'aria-current="page"' in page.text and ">Ask for a peer</a>" in page.text
        fields = re.findall(r"<(?:input|textarea)\b[^>]*>", page.text)
        assert {re.search(r'type="(\w+)"', f).group(1) for f in fields} == {
            "hidden",
            "radio",
            "checkbox",
        }
        assert 'value="call" required checked' in page.text  # a call unless they choose
        assert '<option value="es">Spanish</option>' in page.text

        sent = _post(client, "/ask", "/ask", reach="text", language="es", outside_agency="on")
        assert sent.status_code == 303 and sent.headers["location"] == "/ask"
        [call] = fake.sent("POST", "/v1/requests")
        assert (call.role, call.sub) == ("officer", "B-9")
        assert call.body == {
            "reach": "text",
            "preferred_gender": None,
            "language": "es",
            "outside_agency": True,
        }

        waiting = client.get("/ask")
        assert "Waiting for a peer" in waiting.text and "You asked for a text." in waiting.text
        assert 'data-refresh="/ask/state"' in waiting.text
        assert '<script src="/static/refresh.js" defer></script>' in waiting.text
        assert 'action="/ask"' not in waiting.text  # no second request while one is open
        state = client.get("/ask/state")
        assert 'id="request-state"' in state.text and "<html" not in state.text
        assert "Cancel my request" in state.text

        again = _post(client, "/peers", "/ask", reach="call")
        assert again.headers["location"] == "/ask?note=open"
        assert "You already have a request open" in client.get("/ask?note=open").text

        request_id = fake.requests[0]["request_id"]
        cancelled = _post(client, "/ask", f"/ask/{request_id}/cancel")
        assert cancelled.headers["location"] == "/ask?note=cancelled"
        after = client.get("/ask?note=cancelled")
        assert "Your request is cancelled." in after.text and 'action="/ask"' in after.text
        assert client.get("/ask/state").text.count("No request open") == 1


def test_a_request_carries_nothing_the_page_did_not_offer(fake, portal_url, agency):
    with httpx.Client(base_url=portal_url) as client:
        sign_in(client, agency, "officer", "B-9")
        typed = _post(client, "/ask", "/ask", reach="call", language="I had a bad night")
        strange = _post(client, "/ask", "/ask", reach="email")
    assert typed.status_code == strange.status_code == 422
    assert "Choose one from the list." in typed.text
    assert "Choose how you would like to be reached." in strange.text
    assert fake.sent("POST", "/v1/requests") == []


def test_a_taken_request_names_the_peer_and_by_when(fake, portal_url, agency):
    now = datetime.now(UTC)
    fake.requests = [
        {
            "request_id": "8c1f0d1e-0000-4000-8000-000000000001",
            "state": "taken",
            "reach": "call",
            "preferred_gender": None,
            "language": None,
            "outside_agency": False,
            "requested_at": (now - timedelta(minutes=5)).isoformat(),
            "resolved_at": now.isoformat(),
            "peer": {"first_name": "Ben", "reach_by": (now + timedelta(minutes=15)).isoformat()},
        }
    ]
    with httpx.Client(base_url=portal_url) as client:
        sign_in(client, agency, "officer", "B-9")
        page = client.get("/ask")
    assert "Ben will reach you by" in page.text and "in about 15 min" in page.text
    assert "data-refresh" not in page.text and "Ask again" in page.text


def _acknowledgment(**more) -> dict:
    return {
        "assignment_id": ASSIGNMENT,
        "for_request": True,
        "reach": "text",
        "acknowledge_by": (datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
        "acknowledged_at": None,
        "reach_by": None,
        **more,
    }


def _listed() -> dict:
    return {
        "assignment_id": ASSIGNMENT,
        "incident_id": "8c1f0d1e-0000-4000-8000-000000000001",
        "agency_id": "T1",
        "personnel_id": "B-9",
        "supporter_id": "S-1",
        "supporter_agency_id": "T1",
        "category": None,
        "care_for_carer": False,
        "assigned_at": datetime.now(UTC).isoformat(),
        "care": "open",
        "declined": False,
        "current_offer": None,
    }


def test_a_supporter_says_by_when_in_one_tap(fake, portal_url, agency):
    fake.acknowledgments[ASSIGNMENT] = _acknowledgment()
    fake.assignments = [_listed()]
    page_path = f"/assignments/{ASSIGNMENT}"
    with httpx.Client(base_url=portal_url) as client:
        sign_in(client, agency, "supporter", "S-1")
        page = client.get(page_path)
        assert "I&#39;ll reach them by …" in page.text
        assert "They asked for a peer themselves. They would like a text." in page.text
        assert "The officer asked for a peer" in page.text
        for label in ("Within 15 minutes", "Within 1 hour", "Within 4 hours"):
            assert label in page.text

        wrong = _post(client, page_path, f"{page_path}/acknowledge", within="someday")
        assert wrong.status_code == 422 and "Choose one of the times." in wrong.text
        assert fake.sent("POST", f"/v1/assignments/{ASSIGNMENT}/acknowledge") == []

        tapped = _post(client, page_path, f"{page_path}/acknowledge", within="1h")
        assert tapped.status_code == 303 and tapped.headers["location"] == page_path
        [call] = fake.sent("POST", f"/v1/assignments/{ASSIGNMENT}/acknowledge")
        promised = datetime.fromisoformat(call.body["reach_by"])
        assert abs(promised - (datetime.now(UTC) + timedelta(hours=1))) < timedelta(minutes=1)
        assert (call.role, call.sub) == ("supporter", "S-1")

        done = client.get(page_path)
    assert "You said you&#39;d reach them by" in done.text
    assert 'name="within"' not in done.text


def test_the_roster_decides_whose_assignment_it_is_whatever_check_ins_lists(
    fake, portal_url, agency
):
    fake.acknowledgments[ASSIGNMENT] = _acknowledgment()
    with httpx.Client(base_url=portal_url) as client:
        sign_in(client, agency, "supporter", "S-1")
        pending = client.get(f"/assignments/{ASSIGNMENT}")
        fake.acknowledgments.clear()
        stranger = client.get(f"/assignments/{ASSIGNMENT}")
        fake.assignments = [_listed()]  # check-ins lists it still, the roster moved it on
        moved = client.get(f"/assignments/{ASSIGNMENT}")
    assert pending.status_code == 200 and 'name="within"' in pending.text
    assert "Casey Brennan" in pending.text and "Logging a contact opens here" in pending.text
    assert "asked for a text this time" in pending.text and "prefers" not in pending.text
    assert stranger.status_code == 403
    assert moved.status_code == 403 and "No longer yours" in moved.text
    assert "Casey" not in moved.text and "Log contact" not in moved.text


def test_a_coordinator_sees_what_waits_never_who_and_gives_it(fake, portal_url, agency):
    fake.waiting = [
        {
            "assignment_id": ASSIGNMENT,
            "for_request": True,
            "reason": "no_one_left",
            "moves": 0,
            "escalated_at": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
        }
    ]
    fake.supporters = [
        {"supporter_id": "S-1", "display_name": "Ana Morales", "active": True, "rank": None},
        {"supporter_id": "S-2", "display_name": "Ben Cole", "active": True, "rank": "Sergeant"},
        {"supporter_id": "S-3", "display_name": "Gone Away", "active": False, "rank": None},
    ]
    fake.cannot_take = {"S-2"}
    with httpx.Client(base_url=portal_url) as client:
        sign_in(client, agency, "coordinator", "C-1")
        page = client.get("/waiting")
        assert "An officer asked for a peer" in page.text and "(3 min)" in page.text
        assert "B-9" not in page.text and "Casey" not in page.text
        assert "Ben Cole · Sergeant" in page.text and "Gone Away" not in page.text

        refused = _post(client, "/waiting", f"/waiting/{ASSIGNMENT}/give", supporter_id="S-2")
        assert refused.status_code == 422 and "cannot take it now" in refused.text
        nobody = _post(client, "/waiting", f"/waiting/{ASSIGNMENT}/give", supporter_id="")
        assert nobody.status_code == 422 and "Choose a supporter" in nobody.text

        given = _post(client, "/waiting", f"/waiting/{ASSIGNMENT}/give", supporter_id="S-1")
        assert given.headers["location"] == "/waiting?given=S-1"
        after = client.get(given.headers["location"])
        link = client.get(f"/waiting/{ASSIGNMENT}")
    assert "Given to Ana Morales, who is notified." in after.text
    assert "Nothing is waiting for a peer just now." in after.text
    assert [c.body for c in fake.sent("POST", f"/v1/waiting/{ASSIGNMENT}/give")][-1] == {
        "supporter_id": "S-1"
    }
    assert link.status_code == 303 and link.headers["location"] == "/waiting"
