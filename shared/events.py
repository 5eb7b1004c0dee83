"""Every v1 event of the public contract (docs/contract/), and the roster's directory
events, as pydantic models.

Each model knows its subject (`ps.<agency_id>.<noun>.<verb>`) and its CloudEvents type
(`peerline.<noun>.<verb>.v1`). Consumers ignore unknown fields so producers may add
optional ones within v1; a breaking change is a new `.v2` class beside the old one.
No event has a free-text field except `IntakeRejected.errors`, whose messages never
echo input values.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from shared import subjects
from shared.ids import AgencyId, ExternalId, PersonnelId
from shared.vocab import (
    AssignmentReason,
    Category,
    Channel,
    CheckInOutcome,
    ContactOutcome,
    DurationBucket,
    EscalationReason,
    ExceptionReason,
    InitiatedBy,
    InvolvedRole,
    NotificationChannel,
    Reach,
    ReassignReason,
    RequestOutcome,
    ResourceType,
    RetractionReason,
    TrainingArea,
    UnfilledReason,
    Urgency,
)


def _to_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("datetime is out of range") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
# Supporter ids are chosen by coordinators; like personnel ids they are subject-safe tokens.
SupporterId = PersonnelId
ResourceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")]
# A keyed pseudonym (HMAC-SHA256, hex) of an officer: countable, not identifiable.
OfficerRef = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,128}$")]


def utcnow() -> datetime:
    return datetime.now(UTC)


# What a use case asks the time of: `utcnow` in a service, a clock the test sets in a
# test, so that rules about hours and days are tested without waiting for them.
Clock = Callable[[], datetime]


class Event(BaseModel):
    """Fields every event has. Subclasses set `noun` and `verb`."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, json_schema_serialization_defaults_required=True
    )

    noun: ClassVar[str]
    verb: ClassVar[str]
    version: ClassVar[int] = 1

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    agency_id: AgencyId
    occurred_at: UtcDatetime = Field(default_factory=utcnow)

    @classmethod
    def ce_type(cls) -> str:
        return f"peerline.{cls.noun}.{cls.verb}.v{cls.version}"

    @classmethod
    def subject_pattern(cls) -> str:
        return subjects.subject(subjects.ALL_AGENCIES, cls.noun, cls.verb)

    @property
    def subject(self) -> str:
        return subjects.subject(self.agency_id, self.noun, self.verb)


LocPart = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_?-]{1,64}$")] | int


class FieldError(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    loc: list[LocPart]
    msg: Annotated[str, StringConstraints(max_length=300)]


class Involved(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    personnel_id: PersonnelId
    role: InvolvedRole


class IntakeRejected(Event):
    """A report received over NATS failed validation. Nothing was stored."""

    noun: ClassVar[str] = "intake"
    verb: ClassVar[str] = "rejected"

    external_id: ExternalId | None = None
    errors: list[FieldError]


class IncidentReported(Event):
    """A critical incident was reported; `occurred_at` is when the incident happened."""

    noun: ClassVar[str] = "incident"
    verb: ClassVar[str] = "reported"

    incident_id: uuid.UUID
    external_id: ExternalId
    category: Category
    involved: list[Involved]


class IncidentUpdated(Event):
    """The incident's category or involved personnel changed; `involved` is the full list."""

    noun: ClassVar[str] = "incident"
    verb: ClassVar[str] = "updated"

    incident_id: uuid.UUID
    category: Category
    involved: list[Involved]


class IncidentRetracted(Event):
    noun: ClassVar[str] = "incident"
    verb: ClassVar[str] = "retracted"

    incident_id: uuid.UUID
    reason: RetractionReason


class PeerAssigned(Event):
    noun: ClassVar[str] = "assignment"
    verb: ClassVar[str] = "made"

    assignment_id: uuid.UUID
    incident_id: uuid.UUID
    personnel_id: PersonnelId
    supporter_id: SupporterId
    supporter_agency_id: AgencyId
    reasons: list[AssignmentReason] = Field(default_factory=list)
    # What check-ins time their offers by, so they need not join the incident stream.
    # For care for the carers (`care_for_carer` in reasons) the incident is the care
    # episode: `incident_id` derived from the assignment whose end earned it, and
    # `incident_occurred_at` the moment it ended.
    category: Category | None = None
    incident_occurred_at: UtcDatetime | None = None
    # When the supporter must have said "I'll reach them by ..." (AssignmentAcknowledged)
    # before the assignment moves to the next-best supporter (docs/requests.md).
    acknowledge_by: UtcDatetime | None = None


class AssignmentAcknowledged(Event):
    """The assigned supporter took the assignment: they will reach the officer by
    `reach_by`. `waited_seconds` runs from the first assignment (or the officer's
    request) to now, across any moves; what metrics time acknowledgments by."""

    noun: ClassVar[str] = "assignment"
    verb: ClassVar[str] = "acknowledged"

    assignment_id: uuid.UUID
    supporter_id: SupporterId
    reach_by: UtcDatetime
    waited_seconds: int = Field(ge=0)
    within_deadline: bool
    for_request: bool = False


class AssignmentReassigned(Event):
    """The assignment moved to another supporter (`move` counts the moves so far). Names
    no officer: check-ins and notify need the assignment and its new supporter only."""

    noun: ClassVar[str] = "assignment"
    verb: ClassVar[str] = "reassigned"

    assignment_id: uuid.UUID
    previous_supporter_id: SupporterId
    supporter_id: SupporterId
    supporter_agency_id: AgencyId
    reason: ReassignReason
    move: int = Field(ge=1)
    for_request: bool = False
    acknowledge_by: UtcDatetime | None = None


class AssignmentEscalated(Event):
    """No supporter acknowledged in time and the assignment will not move again: the
    agency's coordinators are alerted. Names no officer, so an officer's request stays
    anonymous to the people it is escalated to."""

    noun: ClassVar[str] = "assignment"
    verb: ClassVar[str] = "escalated"

    assignment_id: uuid.UUID
    reason: EscalationReason
    moves: int = Field(ge=0)
    for_request: bool = False


class AssignmentUnfilled(Event):
    noun: ClassVar[str] = "assignment"
    verb: ClassVar[str] = "unfilled"

    incident_id: uuid.UUID
    personnel_id: PersonnelId
    reason: UnfilledReason


class SupportRequested(Event):
    """An officer asked for a peer from the portal. Carries no personnel id and no
    reason: who asked is known to the roster alone (docs/requests.md)."""

    noun: ClassVar[str] = "request"
    verb: ClassVar[str] = "made"

    request_id: uuid.UUID
    reach: Reach
    outside_agency: bool = False


class SupportRequestResolved(Event):
    """An officer's request ended: a supporter took it, or the officer withdrew it."""

    noun: ClassVar[str] = "request"
    verb: ClassVar[str] = "resolved"

    request_id: uuid.UUID
    outcome: RequestOutcome


class CheckInScheduled(Event):
    noun: ClassVar[str] = "checkin"
    verb: ClassVar[str] = "scheduled"

    checkin_id: uuid.UUID
    assignment_id: uuid.UUID
    incident_id: uuid.UUID
    supporter_id: SupporterId
    due_at: UtcDatetime
    window_closes_at: UtcDatetime
    sequence: int = Field(ge=1)


class CheckInDue(Event):
    noun: ClassVar[str] = "checkin"
    verb: ClassVar[str] = "due"

    checkin_id: uuid.UUID
    assignment_id: uuid.UUID
    supporter_id: SupporterId


class CheckInOverdue(Event):
    noun: ClassVar[str] = "checkin"
    verb: ClassVar[str] = "overdue"

    checkin_id: uuid.UUID
    assignment_id: uuid.UUID
    supporter_id: SupporterId


class CheckInClosed(Event):
    noun: ClassVar[str] = "checkin"
    verb: ClassVar[str] = "closed"

    checkin_id: uuid.UUID
    outcome: CheckInOutcome
    assignment_id: uuid.UUID | None = None
    # True when no further offer is pending for the assignment: its care has ended and
    # the supporter's load is given back.
    care_ended: bool = False


class ContactLogged(Event):
    """That support happened, never what was said. Carries no personnel id."""

    noun: ClassVar[str] = "contact"
    verb: ClassVar[str] = "logged"

    contact_id: uuid.UUID
    supporter_id: SupporterId
    officer_ref: OfficerRef
    checkin_id: uuid.UUID | None = None
    initiated_by: InitiatedBy
    channel: Channel
    duration_bucket: DurationBucket
    outcome: ContactOutcome
    resources_offered: list[ResourceType] = Field(default_factory=list)


class ReferralMade(Event):
    noun: ClassVar[str] = "referral"
    verb: ClassVar[str] = "made"

    referral_id: uuid.UUID
    contact_id: uuid.UUID
    resource_type: ResourceType
    resource_id: ResourceId
    urgency: Urgency


class FeedbackSubmitted(Event):
    """An anonymous program rating: no link to any contact, supporter or officer."""

    noun: ClassVar[str] = "feedback"
    verb: ClassVar[str] = "submitted"

    rating: int = Field(ge=1, le=5)
    would_recommend: bool


class ConfidentialityExceptionRecorded(Event):
    """A supporter or coordinator set confidentiality aside (rule 9). Only the
    reason code and the day travel, so metrics can count exceptions without learning
    whose they were: no supporter, officer or assignment."""

    noun: ClassVar[str] = "exception"
    verb: ClassVar[str] = "recorded"

    exception_id: uuid.UUID
    reason: ExceptionReason
    occurred_on: date


class _NotificationOutcome(Event):
    noun: ClassVar[str] = "notification"

    notification_id: uuid.UUID
    cause_event_id: uuid.UUID
    recipient_id: SupporterId
    channel: NotificationChannel
    attempts: int = Field(ge=1)


class NotificationSent(_NotificationOutcome):
    verb: ClassVar[str] = "sent"


class NotificationFailed(_NotificationOutcome):
    verb: ClassVar[str] = "failed"


class _RosterEvent(Event):
    """A change to the roster's directories. Roster events carry ids, flags and codes
    only: never a name, a contact detail, a unit or a rank, which stay in the roster's
    database (names and contact details sealed)."""

    noun: ClassVar[str] = "roster"


class SupporterUpdated(_RosterEvent):
    """A supporter was added to the roster, changed, or restored after removal."""

    verb: ClassVar[str] = "supporter_updated"

    supporter_id: SupporterId
    personnel_id: PersonnelId
    active: bool
    certified_until: date | None = None
    max_open_assignments: int = Field(ge=0)
    accepts_cross_agency: bool


class SupporterRemoved(_RosterEvent):
    """A supporter left the roster; their personal details are erased."""

    verb: ClassVar[str] = "supporter_removed"

    supporter_id: SupporterId


class TrainingUpdated(_RosterEvent):
    """A supporter's training in one area was recorded or renewed."""

    verb: ClassVar[str] = "training_updated"

    supporter_id: SupporterId
    area: TrainingArea
    completed_on: date
    expires_on: date


class TrainingExpiring(_RosterEvent):
    """A supporter's certification (`area` null) or required training expires soon, or
    has: a reminder to renew it, published once per (supporter, area, expiry date)."""

    verb: ClassVar[str] = "training_expiring"

    supporter_id: SupporterId
    area: TrainingArea | None = None
    expires_on: date


class OfficerUpdated(_RosterEvent):
    """An officer's unit, rank or supervisor was recorded or changed."""

    verb: ClassVar[str] = "officer_updated"

    personnel_id: PersonnelId


class PreferencesUpdated(_RosterEvent):
    """An officer's preferences changed. Only `opted_out` travels: other services must
    honour an opt-out at once (rule 3); the other wishes concern matching alone."""

    verb: ClassVar[str] = "preferences_updated"

    personnel_id: PersonnelId
    opted_out: bool


class ResourceUpdated(_RosterEvent):
    """A resource of the directory was added or changed. `agency_id` is the owning
    agency, or for a region-wide resource the agency of the token that wrote it."""

    verb: ClassVar[str] = "resource_updated"

    resource_id: ResourceId
    resource_type: ResourceType
    region_wide: bool
    crisis_line: bool
    always_open: bool
    active: bool


class AgencySettingsUpdated(_RosterEvent):
    """The agency's peer support settings changed; the full current settings."""

    verb: ClassVar[str] = "settings_updated"

    exclude_same_unit: bool
    share_with_region: bool
    use_regional_pool: bool
    required_training: list[TrainingArea]
    care_for_carers_after: int = Field(ge=1)
    acknowledge_request_within: int = Field(default=600, ge=1)  # seconds
    acknowledge_assignment_within: int = Field(default=14_400, ge=1)
    max_moves: int = Field(default=3, ge=0)


ALL_EVENTS: tuple[type[Event], ...] = (
    IntakeRejected,
    IncidentReported,
    IncidentUpdated,
    IncidentRetracted,
    PeerAssigned,
    AssignmentUnfilled,
    AssignmentAcknowledged,
    AssignmentReassigned,
    AssignmentEscalated,
    SupportRequested,
    SupportRequestResolved,
    CheckInScheduled,
    CheckInDue,
    CheckInOverdue,
    CheckInClosed,
    ContactLogged,
    ReferralMade,
    FeedbackSubmitted,
    ConfidentialityExceptionRecorded,
    NotificationSent,
    NotificationFailed,
    SupporterUpdated,
    SupporterRemoved,
    TrainingUpdated,
    TrainingExpiring,
    OfficerUpdated,
    PreferencesUpdated,
    ResourceUpdated,
    AgencySettingsUpdated,
)

EVENTS_BY_TYPE: dict[str, type[Event]] = {cls.ce_type(): cls for cls in ALL_EVENTS}
