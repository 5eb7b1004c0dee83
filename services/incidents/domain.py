"""Intake rules, free of I/O: what a report may contain, and what it does to an incident.

A report keeps only agency, incident reference, category (or the source type to map),
time and the involved personnel with their role; everything else a CAD sends (civilian
names, narratives, notes) is dropped at the door (rule 7).

Snapshots merge: an officer once involved stays involved even if a later snapshot
omits them (they still deserve the offer); a new officer or a changed role or category
is an update; the same content again is a duplicate; a retracted incident stays
retracted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.events import Involved, UtcDatetime
from shared.ids import AgencyId, ExternalId, PersonnelId
from shared.vocab import Category, InvolvedRole

MAX_INVOLVED = 2_000
CLOCK_SKEW = timedelta(days=1)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

SourceType = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[\x21-\x7e][\x20-\x7e]*$")
]


class ReportedOfficer(BaseModel):
    """One involved person as a CAD sends them; any other field (a name) is dropped."""

    model_config = ConfigDict(extra="ignore")

    personnel_id: PersonnelId
    role: InvolvedRole


class IncidentReport(BaseModel):
    """The body of `POST /v1/incidents` and of a `ps.<agency>.intake.incident` message."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "description": "One of category or source_type is required. Fields not "
            "listed here are dropped, never stored or forwarded.",
            "anyOf": [
                {"required": ["category"], "properties": {"category": {"type": "string"}}},
                {"required": ["source_type"], "properties": {"source_type": {"type": "string"}}},
            ],
        },
    )

    agency_id: AgencyId | None = Field(
        default=None, description="Optional; when present it must be the token's agency."
    )
    external_id: ExternalId = Field(description="The CAD's own incident reference.")
    category: Category | None = None
    source_type: SourceType | None = Field(
        default=None, description="An agency or APCO/NENA incident type code, e.g. SHOOT."
    )
    occurred_at: UtcDatetime
    involved: list[ReportedOfficer] = Field(max_length=MAX_INVOLVED)

    @model_validator(mode="after")
    def _check(self) -> IncidentReport:
        if self.category is None and self.source_type is None:
            raise ValueError("one of category or source_type is required")
        now = datetime.now(UTC)
        if self.occurred_at > now + CLOCK_SKEW:
            raise ValueError("occurred_at is in the future")
        if self.occurred_at < EARLIEST:
            raise ValueError("occurred_at is before 2000")
        seen: set[str] = set()
        for officer in self.involved:
            if officer.personnel_id in seen:
                raise ValueError("involved lists the same personnel_id more than once")
            seen.add(officer.personnel_id)
        return self


class Status(enum.StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    UPDATED = "updated"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Current:
    """What is stored about an incident, as far as the rules need it."""

    category: Category
    involved: tuple[Involved, ...]
    retracted: bool


@dataclass(frozen=True)
class Decision:
    status: Status
    category: Category | None = None
    involved: tuple[Involved, ...] = ()


def decide(current: Current | None, category: Category | None, report: IncidentReport) -> Decision:
    """What a report does, given the stored incident (None if new) and its category
    (None if the source type is not critical)."""
    if category is None:
        return Decision(Status.IGNORED)
    reported = tuple(Involved(personnel_id=o.personnel_id, role=o.role) for o in report.involved)
    if current is None:
        return Decision(Status.ACCEPTED, category, reported)
    if current.retracted:
        return Decision(Status.DUPLICATE)
    roles = {i.personnel_id: i.role for i in current.involved}
    roles.update({i.personnel_id: i.role for i in reported})
    merged = tuple(Involved(personnel_id=pid, role=role) for pid, role in roles.items())
    if merged == current.involved and category == current.category:
        return Decision(Status.DUPLICATE)
    return Decision(Status.UPDATED, category, merged)
