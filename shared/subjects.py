"""Subjects of the bus: `ps.<agency_id>.<noun>.<verb>`.

The agency is a subject token so that NATS permissions can wall one agency's
credentials off from another's (PRODUCT rule 11).
"""

from __future__ import annotations

from typing import NamedTuple

from shared.ids import AGENCY_ID_PATTERN

PREFIX = "ps"
INTAKE_INCIDENT = "intake.incident"
ALL_AGENCIES = "*"
DLQ_PREFIX = "peerline.dlq"


class Subject(NamedTuple):
    agency_id: str
    noun: str
    verb: str


def subject(agency_id: str, noun: str, verb: str) -> str:
    """Build a subject; the agency must be a valid agency id or the `*` wildcard."""
    if agency_id != ALL_AGENCIES and not AGENCY_ID_PATTERN.fullmatch(agency_id):
        raise ValueError("agency_id is not a valid subject token")
    return f"{PREFIX}.{agency_id}.{noun}.{verb}"


def intake_subject(agency_id: str) -> str:
    return subject(agency_id, *INTAKE_INCIDENT.split("."))


def parse(subject_text: str) -> Subject:
    parts = subject_text.split(".")
    if len(parts) != 4 or parts[0] != PREFIX or not AGENCY_ID_PATTERN.fullmatch(parts[1]):
        raise ValueError("not a Peerline event subject")
    return Subject(parts[1], parts[2], parts[3])


def dlq_subject(service: str, consumer: str) -> str:
    return f"{DLQ_PREFIX}.{service}.{consumer}"
