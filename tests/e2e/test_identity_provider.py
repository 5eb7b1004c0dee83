"""A region whose people and dispatch systems sign in with its own identity provider
(decision 69): the services verify the provider's tokens against its JWKS, and
Peerline's own tokens (notify's roster look-ups, the portal's calls) beside them under
the region's secret. The whole chain on a real OIDC provider (oidc-provider-mock): a
coordinator's and a CAD's tokens from the provider, a report, a peer assigned, and the
notification delivered by a real SMTP server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import oidc_provider_mock
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.incidents.app import create_app as create_incidents
from services.roster.app import create_app as create_roster
from shared.vocab import TrainingArea
from tests.notify.scenario import notify_settings, running
from tests.support.running import incidents_settings, roster_settings, serve_app
from tests.support.waiting import await_until

CLIENT = "peerline-region"  # the audience every service expects


@pytest.fixture
def provider() -> Iterator[dict]:
    with oidc_provider_mock.run_server_in_thread() as server:
        issuer = f"http://localhost:{server.server_port}"
        yield httpx.get(f"{issuer}/.well-known/openid-configuration").json()


def _token(provider: dict, sub: str, agency: str, role: str) -> str:
    """An ID token the provider signs for an account with the claims Peerline reads."""
    issuer = provider["issuer"]
    claims = {"agency": agency, "role": role}
    assert httpx.put(f"{issuer}/users/{quote(sub, safe='')}", json=claims).status_code == 204
    back = "http://localhost/callback"
    authorize = httpx.Request(
        "GET",
        provider["authorization_endpoint"],
        params={
            "client_id": CLIENT,
            "redirect_uri": back,
            "response_type": "code",
            "scope": "openid",
            "state": "s",
        },
    ).url
    code = parse_qs(
        urlsplit(httpx.post(str(authorize), data={"sub": sub}).headers["location"]).query
    )
    answer = httpx.post(
        provider["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code["code"][0],
            "redirect_uri": back,
            "client_id": CLIENT,
            "client_secret": "region-secret",
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["id_token"]


async def test_a_report_with_the_providers_tokens_reaches_the_supporter_by_mail(
    provider, smtp, nats_url, database_url, tmp_path, agency
):
    with_provider = {
        "jwt_jwks_url": provider["jwks_uri"],
        "jwt_issuer": provider["issuer"],
        "jwt_audience": CLIENT,
    }
    incidents_app = create_incidents(
        incidents_settings(
            nats_url, f"sqlite+aiosqlite:///{tmp_path / 'i.db'}", tmp_path / "i"
        ).model_copy(update=with_provider)
    )
    roster_app = create_roster(
        roster_settings(
            nats_url, f"sqlite+aiosqlite:///{tmp_path / 'r.db'}", tmp_path / "r"
        ).model_copy(update=with_provider)
    )
    spans = InMemorySpanExporter()
    coordinator = {"Authorization": f"Bearer {_token(provider, 'coord-1', agency, 'coordinator')}"}
    cad = {"Authorization": f"Bearer {_token(provider, 'cad-1', agency, 'ingest')}"}
    supporter = {
        "agency_id": agency,
        "personnel_id": "PSO-1",
        "display_name": "Sam Carter",
        "contact": {"email": "sam@example.org"},
        "availability": {"timezone": "UTC"},
    }
    report = {
        "external_id": "IDP-1",
        "category": "officer_involved_shooting",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "involved": [{"personnel_id": "B1", "role": "primary"}],
    }
    serving = contextlib.contextmanager(serve_app)
    with (
        serving(incidents_app, spans, nats_url) as incidents,
        serving(roster_app, spans, nats_url) as roster,
    ):
        settings = notify_settings(
            nats_url, database_url, tmp_path / "n", roster.url, smtp_url=smtp.url()
        ).model_copy(update=with_provider)
        async with running(settings), httpx.AsyncClient(headers=coordinator) as client:
            put = await client.put(f"{roster.url}/v1/supporters/S-1", json=supporter)
            assert put.status_code == 201, put.text
            for area in TrainingArea:
                trained = await client.put(
                    f"{roster.url}/v1/supporters/S-1/training/{area}",
                    json={"completed_on": "2026-01-05", "expires_on": "2099-01-05"},
                )
                assert trained.status_code in (200, 201), trained.text
            answer = await client.post(f"{incidents.url}/v1/incidents", json=report, headers=cad)
            assert answer.status_code == 202, answer.text
            await await_until(lambda: smtp.to("sam@example.org"), timeout=30, what="the mail")
    [mail] = smtp.to("sam@example.org")
    assert "New peer support assignment" in mail.text
