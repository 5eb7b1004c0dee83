"""NENA EIDO intake: what Peerline reads from an Emergency Incident Data Object
(NENA-STA-021) or an STA-024 `event` notification, and how it becomes a report.

The models below declare only the parts Peerline uses: the incident's id, type, status
and time, the agencies, the agents and the units they staff. Everything else in a
document (persons, locations, notes, calls, additional data, vehicles, jCards) is never
read into a model, so it cannot be stored, forwarded or logged (rule 7).

They tolerate what real dispatch systems send besides the schema's exact shape (both
`lastUpdateTimeStamp` and `lastUpdateTimestamp`, `incidentComponent` as an object or a
one-element array, `disposition` or `dispositionComponent`) and reject, with the JSON
path at fault, only what breaks what Peerline needs. The mapping choices are decision 35.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic import StringConstraints as Text

from shared import errors as refusals
from shared.events import UtcDatetime
from shared.ids import PERSONNEL_ID_PATTERN, ExternalId
from shared.vocab import Category, InvolvedRole, RetractionReason

from .categories import categorise_first
from .domain import MAX_INVOLVED, IncidentReport, ReportedOfficer, SourceType

MAX_EIDOS = 100  # per STA-024 notification
MAX_COMPONENTS = 5_000  # units or agents in one EIDO: a mass-casualty incident's worth

Code = Annotated[str, Text(max_length=128)]
EidoAgencyId = Annotated[str, Text(pattern=r"^[\x21-\x7e]{1,255}$")]

# Unit types (EIDO-EmergencyResourceType-Common registry) whose staff have a role of their
# own whatever the unit's status.
SUPERVISOR_UNITS = frozenset(
    {"CommandLevel1", "CommandLevel2", "CommandLevel3", "LawEnforcementCommandUnit"}
)
INVESTIGATOR_UNITS = frozenset(
    {"Investigator", "AssaultHomicideUnit", "ForensicEvidence", "VehicularCrimesTeam"}
)
# Secondary unit statuses (EIDO-SecondaryUnitStatus-Common) of a unit that has reached the
# scene; "Cleared" keeps a unit that has left it primary, so clearing is not a change.
AT_SCENE = frozenset({"OnScene", "Arrived", "PatientContact", "Transporting", "Cleared"})
# When one person is listed in several places, the role closest to the incident counts.
PRECEDENCE = (
    InvolvedRole.PRIMARY,
    InvolvedRole.SUPERVISOR,
    InvolvedRole.INVESTIGATOR,
    InvolvedRole.ASSISTING,
    InvolvedRole.DISPATCHER,
)
CANCELLED = "cancelled"  # EIDO-IncidentStatus-Common
DUPLICATE_CALL = "22"  # EIDO-CommonDispositionCode "Cancelled - Duplicate Call"

_TIMESTAMP = AliasChoices("lastUpdateTimeStamp", "lastUpdateTimestamp")
_SAFE_LOC = re.compile(r"^[$@]?[A-Za-z0-9_-]{1,64}$")


class PersonnelIdFrom(enum.StrEnum):
    """Where an involved person's `personnel_id` comes from."""

    AGENT_ID = "agent_id"  # the agent's `$id` as it is
    AGENT_LOCAL_PART = "agent_local_part"  # the part before `@` (STA-010 agent@agency)


@dataclass(frozen=True)
class EidoSettings:
    """How one agency's EIDOs are read (stored per agency; these are the defaults)."""

    agency_identifiers: frozenset[str]  # lower case
    dispatchers: bool = True
    personnel_id: PersonnelIdFrom = PersonnelIdFrom.AGENT_ID

    def personnel_id_of(self, agent_id: str) -> str:
        if self.personnel_id is PersonnelIdFrom.AGENT_LOCAL_PART:
            return agent_id.partition("@")[0]
        return agent_id


def _one(value: Any) -> Any:
    """`incidentComponent` is one object; some systems wrap it in an array."""
    if isinstance(value, list):
        if len(value) != 1:
            raise ValueError("must be one incident component, not an array of several")
        return value[0]
    return value


def _many(value: Any) -> Any:
    """Dispositions are an array; some systems send a single object."""
    return [value] if isinstance(value, dict) else value


class _Component(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Reference(_Component):
    ref: Annotated[str, Text(min_length=1, max_length=255)] = Field(alias="$ref")


class Disposition(_Component):
    code: Code = Field(alias="dispositionCommonRegistryCode")


class Incident(_Component):
    updated_at: UtcDatetime = Field(validation_alias=_TIMESTAMP)
    common_type: SourceType = Field(alias="incidentTypeCommonRegistryText")
    internal_type: SourceType | None = Field(default=None, alias="incidentTypeInternalCode")
    statuses: list[Code] = Field(
        default=[], alias="incidentStatusCommonRegistryText", max_length=64
    )
    dispositions: Annotated[list[Disposition], BeforeValidator(_many)] = Field(
        default=[],
        validation_alias=AliasChoices("dispositionComponent", "disposition"),
        max_length=64,
    )


class Agency(_Component):
    id: EidoAgencyId = Field(alias="$id")
    owns_incident: bool = Field(default=False, alias="incidentOwningAgencyIndicator")


class Agent(_Component):
    id: Annotated[str, Text(min_length=1, max_length=255)] = Field(alias="$id")
    roles: list[Code] = Field(alias="agentRoleRegistryText", min_length=1, max_length=16)
    agency: Reference = Field(alias="agencyReference")


class Unit(_Component):
    type: Code = Field(alias="emergencyResourceTypeCommonRegistryText")
    statuses: list[Code] = Field(default=[], alias="secondaryUnitStatusRegistryText")
    agents: list[Reference] = Field(alias="agentReference", min_length=1, max_length=64)


class Eido(_Component):
    """One EIDO: a whole snapshot of one incident."""

    id: ExternalId = Field(alias="$id")
    updated_by: Reference = Field(alias="updatedByAgencyReference")
    incident: Annotated[Incident | None, BeforeValidator(_one)] = Field(
        default=None, alias="incidentComponent"
    )
    agencies: list[Agency] = Field(alias="agencyComponent", min_length=1, max_length=256)
    agents: list[Agent] = Field(default=[], alias="agentComponent", max_length=MAX_COMPONENTS)
    units: list[Unit] = Field(
        default=[], alias="emergencyResourceComponent", max_length=MAX_COMPONENTS
    )

    def agency(self) -> str:
        """The document's agency: the one marked as owning the incident, else the one
        that last updated the EIDO."""
        owners = [a.id for a in self.agencies if a.owns_incident]
        return owners[0] if owners else self.updated_by.ref


class Notification(_Component):
    notification: list[Eido] = Field(default=[], max_length=MAX_EIDOS)


class Event(_Component):
    """An STA-024 `event` message: the EIDOs a notifier sends at once (none: keep-alive)."""

    event: Notification


@dataclass(frozen=True)
class Reading:
    """What one EIDO reports: a report to apply (None: not critical, or no incident
    component yet), and whether the incident was cancelled."""

    external_id: str
    report: IncidentReport | None
    cancelled: RetractionReason | None


Loc = tuple[str | int, ...]


class Invalid(refusals.Invalid):
    """Parts of a document Peerline needs are missing or wrong: `(loc, msg)` each. The
    answer names the JSON path of each; messages never echo values."""

    def __init__(self, faults: list[tuple[Loc, str]]) -> None:
        listed = [
            {"loc": list(_safe(loc)), "path": json_path(loc), "msg": msg} for loc, msg in faults
        ]
        super().__init__(None, f"{listed[0]['path']}: {listed[0]['msg']}", errors=listed)


def _safe(loc: Loc) -> Loc:
    return tuple(p if isinstance(p, int) or _SAFE_LOC.fullmatch(p) else "?" for p in loc)


def json_path(loc: Loc) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in _safe(loc))


def parse(body: bytes) -> list[tuple[Loc, Eido]]:
    """The EIDOs of a request body, each with its location in the body."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, nested too deep, a number too long
        raise refusals.Malformed("The body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise Invalid([((), "must be an EIDO or an STA-024 event object")])
    try:
        if "event" in document:
            event = Event.model_validate(document)
            return [
                (("event", "notification", i), e) for i, e in enumerate(event.event.notification)
            ]
        return [((), Eido.model_validate(document))]
    except ValidationError as exc:
        raise Invalid(
            [(tuple(e["loc"]), e["msg"]) for e in exc.errors(include_input=False)]
        ) from None


def unit_role(unit: Unit) -> InvolvedRole:
    """The role of a unit's staff, from the unit's type and then its status."""
    if unit.type in SUPERVISOR_UNITS:
        return InvolvedRole.SUPERVISOR
    if unit.type in INVESTIGATOR_UNITS:
        return InvolvedRole.INVESTIGATOR
    if "Backup" in unit.statuses:
        return InvolvedRole.ASSISTING
    if AT_SCENE.intersection(unit.statuses):
        return InvolvedRole.PRIMARY
    return InvolvedRole.ASSISTING  # assigned, dispatched, en route: not at the scene yet


def is_dispatcher(agent: Agent) -> bool:
    """A dispatching or call-taking agent ("Dispatching", "Call Taking", "CallTaker"...)."""
    words = ("".join(ch for ch in role.lower() if ch.isalpha()) for role in agent.roles)
    return any(w.startswith(("dispatch", "calltak")) for w in words)


def involved(eido: Eido, settings: EidoSettings, at: Loc) -> list[ReportedOfficer]:
    """The agency's people in the EIDO: the agents staffing its units, and its
    dispatching and call-taking agents unless the agency turned them off. Agents of
    other agencies are left out; their own agency reports them."""
    agents = {agent.id: (i, agent) for i, agent in enumerate(eido.agents)}
    roles: dict[str, InvolvedRole] = {}
    errors: list[tuple[Loc, str]] = []

    def add(index: int, agent: Agent, role: InvolvedRole) -> None:
        if agent.agency.ref.lower() not in settings.agency_identifiers:
            return
        personnel_id = settings.personnel_id_of(agent.id)
        if not PERSONNEL_ID_PATTERN.fullmatch(personnel_id):
            errors.append(((*at, "agentComponent", index, "$id"), "is not a valid personnel id"))
            return
        known = roles.get(personnel_id, role)
        roles[personnel_id] = min(known, role, key=PRECEDENCE.index)

    for u, unit in enumerate(eido.units):
        role = unit_role(unit)
        for r, ref in enumerate(unit.agents):
            if ref.ref not in agents:
                loc = (*at, "emergencyResourceComponent", u, "agentReference", r, "$ref")
                errors.append((loc, "names no agent in agentComponent"))
                continue
            add(*agents[ref.ref], role)
    if settings.dispatchers:
        for i, agent in enumerate(eido.agents):
            if is_dispatcher(agent):
                add(i, agent, InvolvedRole.DISPATCHER)
    if len(roles) > MAX_INVOLVED:
        errors.append(((*at, "emergencyResourceComponent"), "names too many people"))
    if errors:
        raise Invalid(errors)
    return [ReportedOfficer(personnel_id=p, role=r) for p, r in roles.items()]


def cancellation(incident: Incident) -> RetractionReason | None:
    """A `Cancelled` incident status retracts; a "Cancelled - Duplicate Call"
    disposition with it says why."""
    if not any(status.strip().lower() == CANCELLED for status in incident.statuses):
        return None
    if any(d.code.strip() == DUPLICATE_CALL for d in incident.dispositions):
        return RetractionReason.DUPLICATE_INCIDENT
    return RetractionReason.ENTERED_IN_ERROR


def read(
    eido: Eido,
    at: Loc,
    settings: EidoSettings,
    overrides: Mapping[str, Category | None],
) -> Reading:
    """What `eido` reports for the agency of `settings`; 403 if it is another agency's."""
    if eido.agency().lower() not in settings.agency_identifiers:
        path = json_path((*at, "agencyComponent"))
        raise refusals.NotAllowed(f"{path}: the incident's agency is not this token's.")
    incident = eido.incident
    if incident is None:  # a call not yet an incident: nothing to categorise
        return Reading(eido.id, None, None)
    people = involved(eido, settings, at)
    category = categorise_first((incident.internal_type, incident.common_type), overrides)
    if category is None:
        return Reading(eido.id, None, cancellation(incident))
    return Reading(
        eido.id, _report(eido.id, category, incident.updated_at, people, at), cancellation(incident)
    )


def _report(
    external_id: str,
    category: Category,
    occurred_at: datetime,
    people: list[ReportedOfficer],
    at: Loc,
) -> IncidentReport:
    try:
        return IncidentReport(
            external_id=external_id, category=category, occurred_at=occurred_at, involved=people
        )
    except ValidationError as exc:  # the time rules of every report
        loc = (*at, "incidentComponent", "lastUpdateTimeStamp")
        raise Invalid([(loc, e["msg"]) for e in exc.errors(include_input=False)]) from None
