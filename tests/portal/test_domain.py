"""The portal's rules on their own: no server, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.portal.domain import (
    LIFELINE,
    NotAPortalUser,
    crisis_lines,
    days_as_durations,
    describe_duration,
    home_of,
    hours_as_duration,
    idle_expired,
    offer_state,
    person_from_claims,
    safe_next,
)
from shared.tokens import Role

pytestmark = pytest.mark.unit

CLAIMS = {
    "agency_claim": "agency",
    "role_claim": "role",
    "subject_claim": "sub",
    "name_claim": "name",
}
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_claims_name_the_person_by_the_configured_claims():
    person = person_from_claims(
        {"sub": "idp-1", "ori": "CA0190000", "peerline_role": "supporter", "pid": "S-1"},
        agency_claim="ori",
        role_claim="peerline_role",
        subject_claim="pid",
        name_claim="name",
    )
    assert (person.agency, person.role, person.subject, person.name) == (
        "CA0190000",
        Role.SUPPORTER,
        "S-1",
        None,
    )


@pytest.mark.parametrize(
    ("claims", "fault"),
    [
        ({"role": "officer", "sub": "B1"}, "agency"),
        ({"agency": "CA 019", "role": "officer", "sub": "B1"}, "agency"),
        ({"agency": "CA0190000", "role": "ingest", "sub": "B1"}, "role"),
        ({"agency": "CA0190000", "role": "service", "sub": "B1"}, "role"),
        ({"agency": "CA0190000", "role": "officer", "sub": ""}, "sub"),
        ({"agency": "CA0190000", "role": "officer", "sub": "x" * 129}, "sub"),
    ],
)
def test_claims_that_name_no_portal_user_are_refused_naming_the_claim(claims, fault):
    with pytest.raises(NotAPortalUser, match=f"`{fault}`"):
        person_from_claims(claims, **CLAIMS)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/assignments/abc?x=1", "/assignments/abc?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        (None, "/"),
        ("", "/"),
    ],
)
def test_sign_in_returns_only_to_a_page_of_the_portal(target, expected):
    assert safe_next(target) == expected


def test_a_session_ends_after_the_idle_limit():
    assert not idle_expired(NOW - timedelta(minutes=29, seconds=59), NOW, 30)
    assert idle_expired(NOW - timedelta(minutes=30), NOW, 30)


def test_988_always_comes_first_and_configured_lines_follow():
    lines = crisis_lines("Safe Call Now=+1 206 459 3020; broken; Copline=1-800-267-5463")
    assert lines[0] == LIFELINE
    assert [(line.name, line.tel) for line in lines[1:]] == [
        ("Safe Call Now", "tel:+12064593020"),
        ("Copline", "tel:18002675463"),
    ]


def test_each_role_starts_on_its_own_page():
    assert home_of(Role.OFFICER) == "/peers"
    assert home_of(Role.SUPPORTER) == "/assignments"
    assert home_of(Role.COORDINATOR) == "/queue"
    assert home_of(Role.LEADERSHIP) == home_of(Role.REGIONAL) == "/dashboard"


@pytest.mark.parametrize(
    ("offer", "state"),
    [
        (None, "none"),
        (
            {"status": "scheduled", "outcome": None, "due_at": "2026-12-07T00:00:00+00:00"},
            "upcoming",
        ),
        ({"status": "due", "outcome": None, "due_at": "2026-12-06T11:00:00+00:00"}, "due"),
        ({"status": "overdue", "outcome": None, "due_at": "2026-12-01T00:00:00+00:00"}, "overdue"),
        (
            {"status": "closed", "outcome": "contacted", "due_at": "2026-12-01T00:00:00+00:00"},
            "none",
        ),
    ],
)
def test_an_offer_is_grouped_by_where_it_stands(offer, state):
    assert offer_state(offer, NOW) == state


@pytest.mark.parametrize(
    ("iso", "words"),
    [
        ("P1D", "1 day"),
        ("P7D", "7 days"),
        ("PT1M", "1 min"),
        ("P1DT12H", "1 day 12 h"),
        ("P365D", "365 days"),
        (None, "none"),
        ("weird", "weird"),
    ],
)
def test_policy_durations_read_as_words(iso, words):
    assert describe_duration(iso) == words


def test_form_numbers_become_durations_or_nothing():
    assert hours_as_duration("24") == "PT24H" and hours_as_duration("1.5") is None
    assert days_as_durations("7, 30") == ["P7D", "P30D"] and days_as_durations("") == []
    assert days_as_durations("7, soon") is None
