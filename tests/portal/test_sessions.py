"""Sessions, sign-in and the protections every page has: anti-forgery tokens, a strict
Content-Security-Policy with no inline script, `no-store`, the idle limit, and a local
sign-in that exists only on loopback."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from services.portal.sessions import COOKIE
from services.portal.store import SessionRow
from shared import db
from tests.support.portal import csrf_of, portal_settings, sign_in

TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "portal" / "templates"


def test_the_local_sign_in_starts_a_new_session_for_the_person(portal, agency):
    with httpx.Client(base_url=portal.url) as client:
        client.get("/signin")
        before = client.cookies[COOKIE]
        signed = sign_in(client, agency, "officer", "B1234")
        assert signed.status_code == 303 and signed.headers["location"] == "/peers"
        assert client.cookies[COOKIE] != before  # an id planted before sign-in is worthless
        page = client.get("/privacy")
    assert "B1234" in page.text and agency in page.text
    assert 'action="/signout"' in page.text


def test_a_form_without_its_token_is_refused_and_signs_no_one_in(portal, agency):
    with httpx.Client(base_url=portal.url) as client:
        client.get("/signin")
        forged = client.post(
            "/signin/local", data={"agency": agency, "role": "coordinator", "subject": "C1"}
        )
        wrong = client.post(
            "/signin/local",
            data={"csrf": "guess", "agency": agency, "role": "coordinator", "subject": "C1"},
        )
        elsewhere = client.post(
            "/signin/local",
            data={
                "csrf": csrf_of(client.get("/signin")),
                "agency": agency,
                "role": "officer",
                "subject": "B1",
            },
            headers={"Origin": "https://evil.example"},
        )
        after = client.get("/queue")
    assert {forged.status_code, wrong.status_code, elsewhere.status_code} == {403}
    assert after.status_code == 303 and after.headers["location"].startswith("/signin")


def test_every_page_carries_a_strict_policy_and_is_never_stored(portal, agency):
    with httpx.Client(base_url=portal.url) as client:
        sign_in(client, agency, "officer", "B1")
        pages = [client.get(p) for p in ("/signin", "/privacy", "/crisis", "/nowhere")]
        style = client.get("/static/portal.css")
    for page in pages:
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["x-content-type-options"] == "nosniff"
    assert pages[-1].status_code == 404
    assert style.status_code == 200 and style.headers.get("cache-control") != "no-store"


def test_no_template_has_inline_script_or_style():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
        assert "style=" not in text and "<style" not in text, template.name


def test_a_session_ends_after_thirty_idle_minutes(portal, agency, database_url):
    with httpx.Client(base_url=portal.url) as client:
        sign_in(client, agency, "officer", "B1")
        assert client.get("/privacy").text.count("B1") >= 1

        async def idle() -> None:
            engine = db.create_engine(database_url)
            async with engine.begin() as conn:
                then = datetime.now(UTC) - timedelta(minutes=30, seconds=1)
                await conn.execute(update(SessionRow).values(last_seen_at=then))
            await engine.dispose()

        asyncio.run(idle())
        page = client.get("/preferences")
    assert page.status_code == 303 and page.headers["location"] == "/signin?next=%2Fpreferences"


def test_signing_out_ends_the_session_everywhere(portal, agency):
    with httpx.Client(base_url=portal.url) as client:
        sign_in(client, agency, "coordinator", "C1")
        cookie = client.cookies[COOKIE]
        page = client.get("/privacy")
        out = client.post("/signout", data={"csrf": csrf_of(page)})
    assert out.status_code == 303
    replayed = httpx.get(f"{portal.url}/queue", cookies={COOKIE: cookie})
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/signin")


@pytest.mark.parametrize(
    "more", [{"portal_local_signin": False}, {"host": "0.0.0.0"}], ids=["off", "not-loopback"]
)
def test_the_local_sign_in_exists_only_where_asked_and_only_on_loopback(
    serve_portal, tmp_path, database_url, agency, more
):
    portal = serve_portal(portal_settings(tmp_path, database_url, **more))
    with httpx.Client(base_url=portal.url) as client:
        page = client.get("/signin")
        tried = client.post(
            "/signin/local",
            data={"csrf": "none", "agency": agency, "role": "coordinator", "subject": "C"},
        )
    assert "Local sign-in" not in page.text
    assert tried.status_code == 403


def test_the_demo_people_are_offered_by_name(serve_portal, tmp_path, database_url, agency):
    person = {
        "label": "Harbor City coordinator",
        "agency": agency,
        "role": "coordinator",
        "subject": "HC-C1",
        "name": "Dana Brooks",
    }
    (tmp_path / "demo-people.json").write_text(json.dumps([person]))
    portal = serve_portal(portal_settings(tmp_path, database_url))
    with httpx.Client(base_url=portal.url) as client:
        page = client.get("/signin")
        assert "Harbor City coordinator" in page.text
        signed = client.post(
            "/signin/local", data={"csrf": csrf_of(page), "person": f"{agency}/coordinator/HC-C1"}
        )
        assert signed.headers["location"] == "/queue"
        assert "Dana Brooks" in client.get("/privacy").text


def test_a_page_asks_for_sign_in_and_returns_to_it(portal, agency):
    with httpx.Client(base_url=portal.url) as client:
        first = client.get("/assignments/5b7d1c3e-0000-4000-8000-000000000001")
        assert first.headers["location"] == (
            "/signin?next=%2Fassignments%2F5b7d1c3e-0000-4000-8000-000000000001"
        )
        page = client.get(first.headers["location"])
        signed = client.post(
            "/signin/local",
            data={
                "csrf": csrf_of(page),
                "agency": agency,
                "role": "supporter",
                "subject": "S1",
                "next": "/assignments/5b7d1c3e-0000-4000-8000-000000000001",
            },
        )
    assert signed.headers["location"] == "/assignments/5b7d1c3e-0000-4000-8000-000000000001"


def test_a_training_notifications_link_leads_to_the_supporters_training(portal, agency):
    with httpx.Client(base_url=portal.url) as client:
        sign_in(client, agency, "supporter", "S1")
        link = client.get("/training")
    assert link.status_code == 303 and link.headers["location"] == "/me"


def test_a_role_has_no_business_on_another_roles_pages(portal, agency):
    with httpx.Client(base_url=portal.url) as client:
        sign_in(client, agency, "leadership", "L1")
        answers = [client.get(p).status_code for p in ("/peers", "/assignments", "/queue", "/me")]
    assert answers == [403, 403, 403, 403]
