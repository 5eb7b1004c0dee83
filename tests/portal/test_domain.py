"""The portal's rules on their own: no server, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.portal.domain import (
    LIFELINE,
    NAVIGATION,
    NotAPortalUser,
    acknowledgment_words,
    ask_body,
    clock,
    crisis_lines,
    days_as_durations,
    describe_duration,
    from_now,
    home_of,
    hours_as_duration,
    idle_expired,
    language_name,
    offer_state,
    person_from_claims,
    reach_by_of,
    reach_choices,
    request_status,
    request_to_show,
    safe_next,
    waiting_words,
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


# Ask for a peer, "I'll reach them by", waiting.


def test_asking_for_a_peer_comes_first_for_officers_and_waiting_is_a_coordinators_page():
    assert NAVIGATION[Role.OFFICER][0].path == "/ask"
    assert NAVIGATION[Role.OFFICER][0].label == "Ask for a peer"
    assert "/waiting" in [page.path for page in NAVIGATION[Role.COORDINATOR]]


def test_a_moment_reads_in_the_zone_with_how_far_off_it_is():
    assert clock(NOW + timedelta(minutes=15), NOW) == "12:15 UTC"
    assert clock(NOW + timedelta(days=1), NOW) == "Mon 12:00 UTC"
    assert clock(NOW + timedelta(days=9), NOW) == "Tue 15 Dec, 12:00 UTC"
    assert clock(NOW, NOW, ZoneInfo("America/Los_Angeles")) == "04:00 PST"
    assert from_now(NOW + timedelta(minutes=15), NOW) == "in about 15 min"
    assert from_now(NOW + timedelta(minutes=59, seconds=50), NOW) == "in about 1 h"
    assert from_now(NOW - timedelta(hours=3), NOW) == "about 3 h ago"
    assert from_now(NOW + timedelta(seconds=20), NOW) == "now"


LANGUAGES = ["en", "es"]


def test_a_request_carries_the_offered_choices_only():
    form = {"reach": "text", "preferred_gender": "female", "language": "es", "outside_agency": "on"}
    assert ask_body(form, LANGUAGES) == (
        {"reach": "text", "preferred_gender": "female", "language": "es", "outside_agency": True},
        {},
    )
    assert ask_body({"reach": "call"}, LANGUAGES) == (
        {"reach": "call", "preferred_gender": None, "language": None, "outside_agency": False},
        {},
    )


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({}, "reach"),
        ({"reach": "email"}, "reach"),
        ({"reach": "call", "preferred_gender": "I had a bad night"}, "preferred_gender"),
        ({"reach": "call", "language": "klingon"}, "language"),
    ],
)
def test_anything_the_page_did_not_offer_is_refused_by_field(form, field):
    _, errors = ask_body(form, LANGUAGES)
    assert list(errors) == [field]


def test_language_codes_read_as_names():
    assert language_name("es") == "Spanish"
    assert language_name("pt-BR") == "Portuguese (pt-BR)"
    assert language_name("xx") == "xx"


def _request(state: str, requested: datetime = NOW, **more) -> dict:
    return {
        "request_id": "8c1f0d1e-0000-4000-8000-000000000001",
        "state": state,
        "reach": "call",
        "preferred_gender": None,
        "language": None,
        "outside_agency": False,
        "requested_at": requested.isoformat(),
        "resolved_at": None,
        "peer": None,
        **more,
    }


def test_the_page_shows_the_newest_request_while_open_or_for_a_day_once_taken():
    old = _request("cancelled", NOW - timedelta(days=2))
    assert request_to_show([], NOW) is None
    assert request_to_show([_request("sent"), old], NOW)["state"] == "sent"
    assert request_to_show([old, _request("escalated")], NOW)["state"] == "escalated"
    assert request_to_show([_request("cancelled")], NOW) is None
    taken = _request("taken", resolved_at=(NOW - timedelta(hours=2)).isoformat())
    assert request_to_show([taken], NOW) is taken
    assert request_to_show([taken], NOW + timedelta(days=1)) is None


def test_each_state_of_a_request_reads_plainly():
    sent = request_status(_request("sent"), NOW + timedelta(minutes=1))
    assert sent.heading == "Waiting for a peer" and sent.waiting
    assert "12:00 UTC" in sent.lines[0] and "You asked for a call." in sent.lines
    escalated = request_status(_request("escalated", reach="text"), NOW)
    assert escalated.heading == "The program's coordinator is finding someone"
    assert escalated.waiting and "not who asked" in escalated.lines[0]
    assert "You asked for a text." in escalated.lines
    peer = {"first_name": "Ben", "reach_by": (NOW + timedelta(minutes=15)).isoformat()}
    taken = request_status(_request("taken", peer=peer), NOW)
    assert taken.heading == "Ben will reach you by 12:15 UTC" and not taken.waiting
    assert taken.lines[0] == "That is in about 15 min."
    late = request_status(_request("taken", peer=peer), NOW + timedelta(hours=1))
    assert late.heading == "Ben said they would reach you by 12:15 UTC"
    nameless = request_status(_request("taken", peer={**peer, "first_name": None}), NOW)
    assert nameless.heading.startswith("A peer will reach you")
    cancelled = request_status(_request("cancelled"), NOW)
    assert cancelled.heading == "Request cancelled" and not cancelled.waiting


def test_the_state_key_changes_only_when_what_to_read_does():
    sent = request_status(_request("sent"), NOW)
    assert sent.key == request_status(_request("sent"), NOW + timedelta(minutes=3)).key
    assert sent.key != request_status(_request("escalated"), NOW).key
    peer = {"first_name": "Ben", "reach_by": (NOW + timedelta(minutes=15)).isoformat()}
    assert sent.key != request_status(_request("taken", peer=peer), NOW).key


def test_reach_choices_are_worked_out_from_now():
    choices = reach_choices(NOW, for_request=True)
    assert [(c.key, c.reach_by - NOW) for c in choices] == [
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("4h", timedelta(hours=4)),
        ("today", timedelta(hours=11, minutes=59)),
    ]
    assert [c.at for c in choices] == [
        "by 12:15 UTC",
        "by 13:00 UTC",
        "by 16:00 UTC",
        "by 23:59 UTC",
    ]
    assert reach_by_of("1h", NOW, for_request=True) == NOW + timedelta(hours=1)
    assert reach_by_of("tomorrow", NOW, for_request=True) is None  # an officer is waiting
    assert reach_by_of("soon-ish", NOW, for_request=False) is None


def test_later_today_is_the_supporters_own_day_and_only_when_it_has_hours_left():
    pacific = ZoneInfo("America/Los_Angeles")  # NOW is 04:00 there
    today = reach_by_of("today", NOW, pacific, for_request=True)
    assert today == datetime(2026, 12, 7, 7, 59, tzinfo=UTC)  # 23:59 PST
    evening = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
    assert [c.key for c in reach_choices(evening, for_request=True)] == ["15m", "1h", "4h"]
    after_incident = reach_choices(evening, for_request=False)
    assert after_incident[-1].key == "tomorrow"
    assert after_incident[-1].reach_by == datetime(2026, 12, 7, 23, 59, tzinfo=UTC)


def test_the_acknowledgment_says_how_the_officer_asked_and_by_when_to_answer():
    view = {
        "assignment_id": "5b7d1c3e-0000-4000-8000-000000000001",
        "for_request": True,
        "reach": "text",
        "acknowledge_by": (NOW + timedelta(minutes=10)).isoformat(),
        "acknowledged_at": None,
        "reach_by": None,
    }
    open_ = acknowledgment_words(view, NOW)
    assert not open_.done and open_.heading == "I'll reach them by …"
    assert open_.lines == (
        "They asked for a peer themselves. They would like a text.",
        "Tap one by 12:10 UTC (in about 10 min), or it goes to another peer.",
    )
    late = acknowledgment_words(view, NOW + timedelta(minutes=11))
    assert "passed" in late.lines[-1]
    done = acknowledgment_words(
        {**view, "acknowledged_at": NOW.isoformat(), "reach_by": NOW.isoformat()}, NOW
    )
    assert done.done and done.heading == "You said you'd reach them by 12:00 UTC"
    incident = acknowledgment_words({**view, "for_request": False, "reach": None}, NOW)
    assert len(incident.lines) == 1 and "asked" not in incident.lines[0]


def test_what_waits_says_why_and_since_when_never_who():
    item = {
        "assignment_id": "5b7d1c3e-0000-4000-8000-000000000001",
        "for_request": True,
        "reason": "moves_exhausted",
        "moves": 3,
        "escalated_at": (NOW - timedelta(minutes=12)).isoformat(),
    }
    words = waiting_words(item, NOW)
    assert words.what == "An officer asked for a peer"
    assert words.why == "Offered to 4 peers in turn; none said when they would reach them."
    assert words.since == "Waiting since 11:48 UTC (12 min)"
    alone = waiting_words(
        {**item, "for_request": False, "reason": "no_one_left", "moves": 0, "escalated_at": NOW},
        NOW + timedelta(seconds=30),
    )
    assert alone.what == "An officer after a critical incident"
    assert alone.since == "Waiting since 12:00 UTC (under a minute)"
    assert alone.why == "Not taken in time, and no other peer fits and is free."
