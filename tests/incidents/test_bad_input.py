"""Whatever a CAD sends, the answer is a 2xx or a 4xx problem document, never a 5xx."""

from __future__ import annotations

import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.tokens import Role
from tests.conftest import bearer
from tests.support.reports import json_values, near_valid


def token_like() -> str:
    """A well-formed token signed with the wrong key."""
    from shared.tokens import issue_token

    return issue_token("not-the-secret-" + "y" * 32, agency="CA0190000", role="coordinator")


SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _check(answer: httpx.Response) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == answer.status_code


@SETTINGS
@given(body=near_valid | json_values)
def test_generated_bodies_get_a_4xx_or_202(incidents, agency, body):
    headers = {**bearer(agency, Role.INGEST), "Content-Type": "application/json"}
    content = json.dumps(body)  # NaN and Infinity included, as a sloppy encoder sends them
    answer = httpx.post(
        f"{incidents.url}/v1/incidents", content=content, headers=headers, timeout=10
    )
    _check(answer)


@SETTINGS
@given(
    raw=st.binary(max_size=300),
    content_type=st.sampled_from(["application/json", "text/plain", "application/xml"]),
)
def test_generated_bytes_get_a_4xx(incidents, agency, raw, content_type):
    headers = {**bearer(agency, Role.INGEST), "Content-Type": content_type}
    answer = httpx.post(f"{incidents.url}/v1/incidents", content=raw, headers=headers, timeout=10)
    _check(answer)


@SETTINGS
@given(
    path=st.text(min_size=1, max_size=60),
    header=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
    | st.just("Bearer ").map(lambda b: b + token_like()),
)
def test_generated_paths_and_tokens_get_a_4xx(incidents, agency, path, header):
    headers = {"Authorization": header}
    try:
        answer = httpx.get(f"{incidents.url}/v1/incidents/{path}", headers=headers, timeout=10)
    except (httpx.InvalidURL, httpx.LocalProtocolError, UnicodeEncodeError):
        return  # the client refused to send it; nothing reached the service
    _check(answer)


def test_hostile_json_is_a_4xx_on_both_intake_routes(incidents, agency):
    """JSON nested a thousand deep, and a number of five thousand digits, which Python's
    own parser gives up on, are the caller's mistake on every route that reads JSON."""
    headers = {**bearer(agency, Role.INGEST), "Content-Type": "application/json"}
    for content in ("[" * 1000 + "]" * 1000, '{"$id": ' + "9" * 5000 + "}"):
        for route in ("/v1/incidents", "/v1/eido"):
            answer = httpx.post(
                f"{incidents.url}{route}", content=content, headers=headers, timeout=10
            )
            _check(answer)
            assert answer.status_code in (400, 422), (route, answer.status_code)
