"""The v1 event contract: names, subjects, headers, and the confidentiality rules the
events themselves obey."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared import cloudevents, subjects
from shared.events import (
    ALL_EVENTS,
    EVENTS_BY_TYPE,
    ContactLogged,
    FeedbackSubmitted,
    IncidentReported,
    IntakeRejected,
    ReferralMade,
)

pytestmark = pytest.mark.unit

CONTRACT = {
    "IntakeRejected": "ps.A1.intake.rejected",
    "IncidentReported": "ps.A1.incident.reported",
    "IncidentUpdated": "ps.A1.incident.updated",
    "IncidentRetracted": "ps.A1.incident.retracted",
    "PeerAssigned": "ps.A1.assignment.made",
    "AssignmentUnfilled": "ps.A1.assignment.unfilled",
    "AssignmentAcknowledged": "ps.A1.assignment.acknowledged",
    "AssignmentReassigned": "ps.A1.assignment.reassigned",
    "AssignmentEscalated": "ps.A1.assignment.escalated",
    "SupportRequested": "ps.A1.request.made",
    "SupportRequestResolved": "ps.A1.request.resolved",
    "CheckInScheduled": "ps.A1.checkin.scheduled",
    "CheckInDue": "ps.A1.checkin.due",
    "CheckInOverdue": "ps.A1.checkin.overdue",
    "CheckInClosed": "ps.A1.checkin.closed",
    "ContactLogged": "ps.A1.contact.logged",
    "ReferralMade": "ps.A1.referral.made",
    "FeedbackSubmitted": "ps.A1.feedback.submitted",
    "ConfidentialityExceptionRecorded": "ps.A1.exception.recorded",
    "NotificationSent": "ps.A1.notification.sent",
    "NotificationFailed": "ps.A1.notification.failed",
    "SupporterUpdated": "ps.A1.roster.supporter_updated",
    "SupporterRemoved": "ps.A1.roster.supporter_removed",
    "TrainingUpdated": "ps.A1.roster.training_updated",
    "TrainingExpiring": "ps.A1.roster.training_expiring",
    "OfficerUpdated": "ps.A1.roster.officer_updated",
    "PreferencesUpdated": "ps.A1.roster.preferences_updated",
    "ResourceUpdated": "ps.A1.roster.resource_updated",
    "AgencySettingsUpdated": "ps.A1.roster.settings_updated",
}


def test_every_contract_event_has_its_subject_and_type():
    assert {cls.__name__ for cls in ALL_EVENTS} == set(CONTRACT)
    for cls in ALL_EVENTS:
        noun, verb = CONTRACT[cls.__name__].split(".")[2:]
        assert cls.subject_pattern() == f"ps.*.{noun}.{verb}"
        assert cls.ce_type() == f"peerline.{noun}.{verb}.v1"
    assert len(EVENTS_BY_TYPE) == len(ALL_EVENTS)


def _string_fields_without_constraints(schema: dict, defs: dict, path: str = "") -> list[str]:
    """Paths of string properties that accept arbitrary text (no enum, pattern, format)."""
    found = []
    if "$ref" in schema:
        return _string_fields_without_constraints(defs[schema["$ref"].split("/")[-1]], defs, path)
    for key in ("anyOf", "allOf", "oneOf"):
        for sub in schema.get(key, []):
            found += _string_fields_without_constraints(sub, defs, path)
    if schema.get("type") == "string" and not (
        {"enum", "pattern", "format", "const"} & set(schema)
    ):
        found.append(path)
    for name, sub in schema.get("properties", {}).items():
        found += _string_fields_without_constraints(sub, defs, f"{path}.{name}")
    if "items" in schema:
        found += _string_fields_without_constraints(schema["items"], defs, f"{path}[]")
    return found


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda c: c.__name__)
def test_no_event_has_a_free_text_field_except_intake_errors(cls):
    schema = cls.model_json_schema()
    free = _string_fields_without_constraints(schema, schema.get("$defs", {}))
    assert free == ([".errors[].msg"] if cls is IntakeRejected else [])


@pytest.mark.parametrize("cls", [ContactLogged, ReferralMade, FeedbackSubmitted])
def test_care_events_never_carry_a_personnel_id(cls):
    assert "personnel_id" not in cls.model_fields


def test_feedback_has_no_link_to_contact_supporter_or_officer():
    fields = set(FeedbackSubmitted.model_fields)
    assert fields == {"event_id", "agency_id", "occurred_at", "rating", "would_recommend"}


def test_cloudevents_headers_round_trip():
    event = IncidentReported(
        agency_id="CA0190000",
        occurred_at=datetime(2026, 11, 25, 22, 14, tzinfo=UTC),
        incident_id=uuid.uuid4(),
        external_id="24-1",
        category="mass_casualty",
        involved=[{"personnel_id": "B1", "role": "primary"}],
    )
    payload, headers = cloudevents.encode(event, source="peerline/incidents")
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-id"] == headers["Nats-Msg-Id"] == str(event.event_id)
    assert headers["ce-type"] == "peerline.incident.reported.v1"
    assert headers["ce-agencyid"] == "CA0190000"
    assert headers["ce-source"] == "peerline/incidents"
    assert headers["Content-Type"] == "application/json"
    assert headers["ce-time"].endswith("Z")
    assert cloudevents.decode(headers, payload) == event


def test_consumers_ignore_unknown_fields_but_reject_mismatched_headers():
    event = FeedbackSubmitted(agency_id="A1", rating=5, would_recommend=True)
    payload, headers = cloudevents.encode(event, source="t")
    extended = payload[:-1] + b',"added_in_v1_1":"x"}'
    assert cloudevents.decode(headers, extended) == event
    with pytest.raises(ValueError):
        cloudevents.decode({**headers, "ce-agencyid": "OTHER"}, payload)
    with pytest.raises(ValueError):
        cloudevents.decode({k: v for k, v in headers.items() if k != "ce-type"}, payload)


def test_subjects_are_built_from_valid_agency_tokens_only():
    assert subjects.subject("CA0190000", "incident", "reported") == "ps.CA0190000.incident.reported"
    assert subjects.intake_subject("*") == "ps.*.intake.incident"
    for bad in ("a.b", "has space", "x", ">"):
        with pytest.raises(ValueError):
            subjects.subject(bad, "incident", "reported")
    assert subjects.parse("ps.CA01.incident.reported") == ("CA01", "incident", "reported")


def test_feedback_rating_is_bounded():
    with pytest.raises(ValidationError):
        FeedbackSubmitted(agency_id="A1", rating=6, would_recommend=True)
