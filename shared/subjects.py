"""Subjects of the bus: `ps.<agency_id>.<noun>.<verb>`, and the longer subjects of the
check-in timers (`ps.<agency_id>.checkin.timer.<checkin_id>.<kind>`). Every subject and
subject filter is built here, so the pattern lives in one place.

The agency is a subject token so that NATS permissions can wall one agency's
credentials off from another's (rule 11).
"""

from __future__ import annotations

from typing import NamedTuple

from shared.ids import AGENCY_ID_PATTERN

PREFIX = "ps"
INTAKE_INCIDENT = "intake.incident"
ALL_AGENCIES = "*"
EVERYTHING = f"{PREFIX}.>"  # every agency's every event and intake
DLQ_PREFIX = "peerline.dlq"


class Subject(NamedTuple):
    agency_id: str
    noun: str
    verb: str


def subject(agency_id: str, noun: str, verb: str, *more: str) -> str:
    """Build a subject (or, with wildcards, a filter); the agency must be a valid agency
    id or the `*` wildcard. `more` tokens follow the verb (the timers' subjects)."""
    if agency_id != ALL_AGENCIES and not AGENCY_ID_PATTERN.fullmatch(agency_id):
        raise ValueError("agency_id is not a valid subject token")
    return ".".join((PREFIX, agency_id, noun, verb, *more))


def intake_subject(agency_id: str) -> str:
    return subject(agency_id, *INTAKE_INCIDENT.split("."))


def parse(subject_text: str) -> Subject:
    parts = subject_text.split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not AGENCY_ID_PATTERN.fullmatch(parts[1]):
        raise ValueError("not a Peerline event subject")
    return Subject(parts[1], parts[2], parts[3])


def dlq_subject(service: str, consumer: str) -> str:
    return f"{DLQ_PREFIX}.{service}.{consumer}"
