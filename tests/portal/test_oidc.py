"""Sign-in with a real OpenID Connect provider run by the test (oidc-provider-mock):
the portal sends the browser there with a PKCE challenge, takes the code back, verifies
the ID token and names the person by the configured claims."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import oidc_provider_mock
import pytest

from services.portal.sessions import COOKIE
from tests.support.portal import portal_settings


@pytest.fixture
def provider() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread(require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def portal(serve_portal, tmp_path, database_url, provider):
    return serve_portal(
        portal_settings(
            tmp_path,
            database_url,
            portal_local_signin=False,
            oidc_issuer=provider,
            oidc_client_id="peerline-portal",
            oidc_client_secret="portal-secret",
            oidc_agency_claim="ori",
            oidc_role_claim="peerline_role",
            oidc_subject_claim="peerline_id",
        )
    )


def _user(provider: str, sub: str, claims: dict) -> None:
    answer = httpx.put(f"{provider}/users/{quote(sub, safe='')}", json=claims)
    assert answer.status_code == 204


def _sign_in(client: httpx.Client, provider: str, sub: str, next_page: str = "") -> httpx.Response:
    """What a browser does: to the provider, authorize as `sub`, back to the portal."""
    start = client.get("/signin/oidc", params={"next": next_page} if next_page else None)
    assert start.status_code == 303
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(provider)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["response_type"] == ["code"] and "openid" in query["scope"][0].split()
    back = httpx.post(authorize, data={"sub": sub})
    assert back.status_code == 302
    callback = urlsplit(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}")


def test_a_supporter_signs_in_with_the_agency_account(portal, provider, agency):
    _user(
        provider,
        "alex.rivera@agency.example",
        {"ori": agency, "peerline_role": "supporter", "peerline_id": "S-7", "name": "Alex Rivera"},
    )
    with httpx.Client(base_url=portal.url) as client:
        page = client.get("/signin")
        assert "Sign in with your agency account" in page.text
        assert "Local sign-in" not in page.text
        anonymous = client.cookies[COOKIE]
        back = _sign_in(client, provider, "alex.rivera@agency.example", "/me")
        assert back.status_code == 303 and back.headers["location"] == "/me"
        assert client.cookies[COOKIE] != anonymous
        about = client.get("/privacy")
    assert "Alex Rivera" in about.text and "supporter" in about.text and agency in about.text


def test_an_account_without_a_peerline_role_is_not_signed_in(portal, provider, agency):
    _user(provider, "clerk@agency.example", {"ori": agency, "peerline_id": "X-1"})
    with httpx.Client(base_url=portal.url) as client:
        back = _sign_in(client, provider, "clerk@agency.example")
        after = client.get("/queue")
    assert back.status_code == 403 and "peerline_role" in back.text
    assert after.status_code == 303 and after.headers["location"].startswith("/signin")


def test_a_callback_this_browser_did_not_start_signs_no_one_in(portal, provider, agency):
    _user(
        provider,
        "a@agency.example",
        {"ori": agency, "peerline_role": "officer", "peerline_id": "B1"},
    )
    with httpx.Client(base_url=portal.url) as victim, httpx.Client(base_url=portal.url) as attacker:
        start = attacker.get("/signin/oidc")
        back = httpx.post(start.headers["location"], data={"sub": "a@agency.example"})
        callback = urlsplit(back.headers["location"])
        victim.get("/signin/oidc")  # the victim's own sign-in is under way
        forced = victim.get(f"{callback.path}?{callback.query}")
        after = victim.get("/peers")
    assert forced.status_code == 403
    assert after.status_code == 303
