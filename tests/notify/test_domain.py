"""The notify service's rules without I/O: urgency, channel order, quiet hours across
midnight and time zones, the rate limit, backoff, and what a message may say."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from services.notify.domain import (
    FOR_COORDINATORS,
    TEMPLATES,
    Kind,
    QuietHours,
    Recipient,
    Route,
    message,
    notice_of,
    quiet_until,
    rate_free_at,
    retry_delay,
    routes,
    zone_of,
)
from shared.vocab import Category, NotificationChannel
from tests.notify.scenario import (
    OFFICER,
    assigned,
    escalated,
    overdue,
    reassigned,
    requested,
    to_acknowledge,
    unfilled,
)

pytestmark = pytest.mark.unit

CHICAGO = zone_of("America/Chicago")
NIGHT = QuietHours(time(22, 0), time(7, 0))


@pytest.mark.parametrize(
    ("category", "urgent"),
    [
        (Category.OFFICER_INVOLVED_SHOOTING, True),
        (Category.LINE_OF_DUTY_DEATH, True),
        (Category.FATAL_COLLISION, False),
        (None, False),
    ],
)
def test_only_an_assignment_after_a_shooting_or_a_line_of_duty_death_is_urgent(category, urgent):
    assert notice_of(assigned("A1", "S-1", category)).urgent is urgent


def test_escalations_go_to_the_coordinators():
    assert notice_of(overdue("A1", "S-1")).supporter_id is None
    assert notice_of(unfilled("A1")).supporter_id is None
    for for_request in (False, True):
        notice = notice_of(escalated("A1", for_request=for_request))
        assert notice.supporter_id is None and notice.kind in FOR_COORDINATORS


def test_an_officers_request_is_its_own_kind_and_always_urgent():
    event = requested("A1", "S-1")
    notice = notice_of(event)
    assert (notice.kind, notice.reference, notice.supporter_id) == (
        Kind.REQUEST,
        event.assignment_id,
        "S-1",
    )
    assert notice.urgent is True  # though it names no category
    assert notice.acknowledge_by == event.acknowledge_by
    assert notice.kind not in FOR_COORDINATORS


def test_a_cad_assignment_carries_its_deadline_and_its_categorys_urgency():
    event = to_acknowledge(assigned("A1", "S-1", Category.FATAL_COLLISION))
    notice = notice_of(event)
    assert (notice.kind, notice.urgent) == (Kind.ASSIGNMENT, False)
    assert notice.acknowledge_by == event.acknowledge_by
    assert notice_of(assigned("A1", "S-1")).acknowledge_by is None


@pytest.mark.parametrize(
    ("for_request", "kind", "urgent"),
    [(True, Kind.REQUEST, True), (False, Kind.ASSIGNMENT, False)],
)
def test_a_moved_assignment_goes_to_its_new_supporter_in_their_agency(for_request, kind, urgent):
    event = reassigned("A1", "S-NEW", for_request=for_request, supporter_agency_id="REGION01")
    notice = notice_of(event)
    assert (notice.kind, notice.reference, notice.supporter_id) == (
        kind,
        event.assignment_id,
        "S-NEW",
    )
    assert (notice.recipient_agency_id, notice.urgent) == ("REGION01", urgent)
    assert notice.acknowledge_by == event.acknowledge_by
    assert notice.follows_assignment  # a CAD one stays urgent if its first message was


@pytest.mark.parametrize(
    ("for_request", "kind", "urgent"),
    [(True, Kind.REQUEST_ESCALATED, True), (False, Kind.ESCALATED, False)],
)
def test_an_escalation_is_urgent_when_an_officer_asked(for_request, kind, urgent):
    event = escalated("A1", for_request=for_request)
    notice = notice_of(event)
    assert (notice.kind, notice.reference, notice.recipient_agency_id) == (
        kind,
        event.assignment_id,
        "A1",
    )
    assert notice.urgent is urgent


def test_the_new_messages_name_nobody():
    """Rule 4, for requests above all: who asked is known to the roster alone."""
    events = [
        requested("A1", "S-1"),
        to_acknowledge(assigned("A1", "S-1")),
        reassigned("A1", "S-NEW", for_request=True, previous="S-OLD"),
        reassigned("A1", "S-NEW", previous="S-OLD"),
        escalated("A1", for_request=True),
        escalated("A1"),
    ]
    now = datetime.now(UTC)
    for event in events:
        notice = notice_of(event)
        found = message(
            notice.kind,
            notice.reference,
            "https://peerline.example.org",
            acknowledge_by=notice.acknowledge_by,
            now=now,
            zone=CHICAGO,
        )
        text = f"{found.title}\n{found.body}"
        for secret in (OFFICER, "S-1", "S-NEW", "S-OLD", "shooting", "Shooting"):
            assert secret not in text


def test_what_the_request_and_escalation_messages_say():
    reference = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    portal = "https://peerline.example.org"
    request = message(Kind.REQUEST, reference, portal)
    assert request.title == "Peerline: An officer asked for a peer (0F1E2D3C)"
    assert "waiting" in request.body and "when you will reach them" in request.body
    assert f"{portal}/assignments/{reference}" in request.body
    asked = message(Kind.REQUEST_ESCALATED, reference, portal).body.splitlines()
    assert asked[0] == "A request for a peer is waiting: no supporter has taken it yet."
    assert asked[3] == f"Open it in Peerline: {portal}/waiting"
    cad = message(Kind.ESCALATED, reference, portal).body.splitlines()
    assert cad[0] == "An assignment is waiting: no supporter acknowledged it."
    assert cad[3] == f"Open it in Peerline: {portal}/waiting"


NOON = datetime(2026, 6, 15, 17, 0, tzinfo=UTC)  # 12:00 in Chicago (CDT)


@pytest.mark.parametrize(
    ("deadline", "sentence"),
    [
        (NOON + timedelta(hours=4), "Please acknowledge it in Peerline by 16:00 CDT."),
        (NOON + timedelta(hours=14), "Please acknowledge it in Peerline by 02:00 CDT on 16 June."),
        (NOON, "Please acknowledge it in Peerline now."),  # held or retried past it
    ],
)
def test_an_assignment_asks_to_be_acknowledged_by_its_deadline_in_the_recipients_zone(
    deadline, sentence
):
    reference = uuid.uuid4()
    portal = "https://peerline.example.org"
    found = message(
        Kind.ASSIGNMENT, reference, portal, acknowledge_by=deadline, now=NOON, zone=CHICAGO
    )
    lines = found.body.splitlines()
    assert lines[0] == f"{TEMPLATES[Kind.ASSIGNMENT][1]} {sentence}"
    assert len(lines) == 4
    # Without a deadline the message is as it was; a request asks in its own words.
    plain = message(Kind.ASSIGNMENT, reference, portal, now=NOON, zone=CHICAGO)
    assert plain.body.splitlines()[0] == TEMPLATES[Kind.ASSIGNMENT][1]
    asked = message(Kind.REQUEST, reference, portal, acknowledge_by=deadline, now=NOON)
    assert asked.body.splitlines()[0] == TEMPLATES[Kind.REQUEST][1]


def test_a_deadline_for_a_recipient_without_a_known_zone_is_said_in_utc():
    found = message(
        Kind.ASSIGNMENT,
        uuid.uuid4(),
        "https://peerline.example.org",
        acknowledge_by=NOON + timedelta(hours=1),
        now=NOON,
        zone=zone_of("Mars/Olympus"),
    )
    assert "by 18:00 UTC." in found.body


def test_channels_in_order_url_email_phone_console():
    person = Recipient("S-1", email="d@example.org", phone="+1 555 0100", url="slack://T/B/C")
    found = routes(
        person,
        smtp_url="mailtos://relay.example.org:587?from=peerline@example.org",
        sms_url="twilio://SID:Token@+15550000/{phone}",
        console=True,
    )
    assert [r.channel for r in found] == [
        NotificationChannel.CHAT,
        NotificationChannel.EMAIL,
        NotificationChannel.SMS,
        NotificationChannel.CONSOLE,
    ]
    query = parse_qs(urlsplit(found[1].url).query)
    assert query == {"from": ["peerline@example.org"], "to": ["d@example.org"]}
    assert found[2].url == "twilio://SID:Token@+15550000/+1%20555%200100"
    assert found[3] == Route(NotificationChannel.CONSOLE, None)


def test_unconfigured_channels_are_skipped():
    person = Recipient("S-1", email="d@example.org", phone="+15550100")
    assert routes(person, smtp_url=None, sms_url=None, console=False) == []
    webhook = Recipient("S-1", url="json://hooks.example.org/x?redirect=yes")
    assert routes(webhook, smtp_url=None, sms_url=None, console=False) == [
        Route(NotificationChannel.WEBHOOK, "json://hooks.example.org/x?redirect=no", True)
    ]


def local(hour: int, minute: int = 0, day: int = 15) -> datetime:
    return datetime(2026, 6, day, hour, minute, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (local(23), local(7, day=16)),  # before midnight: the next morning
        (local(3), local(7)),  # after midnight: this morning
        (local(22), local(7, day=16)),  # the first minute counts
        (local(7), None),  # the end does not
        (local(12), None),
    ],
)
def test_quiet_hours_over_midnight_in_the_recipients_zone(now, until):
    found = quiet_until(now.astimezone(UTC), NIGHT, CHICAGO)
    assert found == (until.astimezone(UTC) if until else None)


def test_quiet_hours_within_a_day_and_none():
    lunch = QuietHours(time(12, 0), time(13, 0))
    assert quiet_until(local(12, 30), lunch, CHICAGO) == local(13).astimezone(UTC)
    assert quiet_until(local(13, 30), lunch, CHICAGO) is None
    assert quiet_until(local(3), None, CHICAGO) is None


def test_quiet_hours_end_at_local_wall_time_across_a_clock_change():
    # The night of 7-8 March 2026 loses an hour in Chicago: 07:00 is 12:00 UTC, not 13:00.
    night = datetime(2026, 3, 7, 23, 0, tzinfo=CHICAGO)
    assert quiet_until(night.astimezone(UTC), NIGHT, CHICAGO) == datetime(
        2026, 3, 8, 12, 0, tzinfo=UTC
    )


def test_an_unknown_zone_is_utc():
    assert zone_of("Mars/Olympus") == zone_of("UTC")


def test_the_rate_limit_frees_a_slot_when_the_oldest_leaves_the_window():
    now = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
    hour = timedelta(hours=1)
    sent = [now - timedelta(minutes=m) for m in (50, 20, 5)]
    assert rate_free_at(now, sent, limit=3, window=hour) == now + timedelta(minutes=10)
    assert rate_free_at(now, sent, limit=4, window=hour) is None
    old = [now - timedelta(minutes=90)] * 5
    assert rate_free_at(now, old, limit=1, window=hour) is None


def test_retries_back_off_exponentially_up_to_a_cap():
    delays = [retry_delay(n, base=10, cap=60).total_seconds() for n in range(1, 6)]
    assert delays == [10, 20, 40, 60, 60]


def test_a_message_is_what_happened_a_reference_and_a_link():
    reference = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    for kind in Kind:
        found = message(kind, reference, "https://peerline.example.org/")
        assert found.title.startswith("Peerline: ") and found.title.endswith("(0F1E2D3C)")
        lines = found.body.strip().splitlines()
        assert lines[0] == TEMPLATES[kind][1]
        assert lines[2] == "Reference: 0F1E2D3C"
        assert lines[3].startswith("Open it in Peerline: https://peerline.example.org/")
        assert len(lines) == 4
