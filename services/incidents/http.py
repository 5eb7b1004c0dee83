"""HTTP routes of the incidents service (thin: parse, authorise, call intake)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.auth import Principal, Role, ensure_agency, require_role
from shared.db import put_row
from shared.events import Involved
from shared.ids import incident_id_for
from shared.problems import Problem
from shared.routes import Provided, Runtime, problems
from shared.service import ServiceRuntime
from shared.vocab import Category, RetractionReason

from . import eido, intake
from .categories import DEFAULT_SOURCE_TYPES, normalise
from .domain import IncidentReport, SourceType, Status
from .store import EidoSettingsRow, IncidentRow, SourceTypeRow

router = APIRouter(prefix="/v1")

PROBLEMS = problems(s404="No such incident")


Ingest = Annotated[Principal, Depends(require_role(Role.INGEST))]
Coordinator = Annotated[Principal, Depends(require_role(Role.COORDINATOR))]
Writer = Provided[intake.IntakeWriter]
Retractor = Annotated[Principal, Depends(require_role(Role.INGEST, Role.COORDINATOR))]
IncidentIdPath = Annotated[uuid.UUID, Path(description="The id Peerline gave the incident")]


class IntakeAnswer(BaseModel):
    incident_id: uuid.UUID
    status: Status


class IncidentView(BaseModel):
    incident_id: uuid.UUID
    agency_id: str
    external_id: str
    category: Category
    occurred_at: datetime
    involved: list[Involved]
    status: str
    retraction_reason: RetractionReason | None
    reported_at: datetime
    updated_at: datetime


class Retraction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: RetractionReason = RetractionReason.ENTERED_IN_ERROR


class RetractionAnswer(BaseModel):
    incident_id: uuid.UUID
    status: str


class EidoStatus(enum.StrEnum):
    """An EIDO's outcome: a report's, or `retracted` when a `Cancelled` status retracted
    the incident (a cancelled incident Peerline never kept is `ignored`)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    UPDATED = "updated"
    IGNORED = "ignored"
    RETRACTED = "retracted"


class EidoAnswer(BaseModel):
    incident_id: uuid.UUID
    status: EidoStatus


class EidoSettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency_identifiers: list[eido.EidoAgencyId] = Field(
        min_length=1,
        max_length=16,
        description="The EIDO agency identifiers (STA-010 Agency IDs, e.g. "
        "pd.springfield.il.us) that are this agency. Only EIDOs whose owning agency is one "
        "of them are accepted, and only agents of these agencies are involved. "
        "Default: the Peerline agency id.",
    )
    dispatchers: StrictBool = Field(
        default=True, description="Whether dispatching and call-taking agents are involved."
    )
    personnel_id: eido.PersonnelIdFrom = Field(
        default=eido.PersonnelIdFrom.AGENT_ID,
        description="An agent's personnel_id: its `$id`, or the part of it before `@`.",
    )


EIDO_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "A NENA EIDO (NENA-STA-021) or an STA-024 message "
                    '`{"event": {"notification": [EIDO, ...]}}`. Read: `$id`, '
                    "`updatedByAgencyReference`, `incidentComponent` (type, status, "
                    "dispositions, time), `agencyComponent`, `agentComponent`, "
                    "`emergencyResourceComponent`. Everything else is dropped unread.",
                }
            }
        },
    }
}


class SourceTypeMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category | None


class SourceTypeView(BaseModel):
    code: str
    category: Category | None
    origin: str


@router.post(
    "/incidents",
    status_code=202,
    response_model=IntakeAnswer,
    responses=PROBLEMS,
    summary="Report a critical incident",
)
async def report_incident(report: IncidentReport, caller: Ingest, writer: Writer) -> IntakeAnswer:
    if report.agency_id is not None:
        ensure_agency(caller, report.agency_id)
    result = await writer.submit(caller.agency, report)
    return IntakeAnswer(incident_id=result.incident_id, status=result.status)


@router.post(
    "/eido",
    status_code=202,
    response_model=list[EidoAnswer],
    responses=problems(s403="Wrong role, or an EIDO of another agency"),
    summary="Report incidents as NENA EIDOs: one EIDO, or an STA-024 event notification",
    openapi_extra=EIDO_BODY,
)
async def report_eido(
    caller: Ingest, request: Request, rt: Runtime, writer: Writer
) -> list[EidoAnswer]:
    """Each EIDO is a whole snapshot of its incident and goes through the same intake
    as `POST /v1/incidents`. Every EIDO is read before any is applied, so a notification
    with one bad EIDO changes nothing."""
    try:
        documents = eido.parse(await request.body())
        async with rt.readers() as session:
            settings = await _eido_settings(session, caller.agency)
            overrides = await intake.agency_overrides(session, caller.agency)
        readings = [eido.read(doc, at, settings, overrides) for at, doc in documents]
    except eido.Invalid as exc:
        raise exc.problem() from None
    return [await _apply_eido(rt, writer, caller.agency, r) for r in readings]


async def _apply_eido(
    rt: ServiceRuntime, writer: intake.IntakeWriter, agency_id: str, reading: eido.Reading
) -> EidoAnswer:
    incident_id = incident_id_for(agency_id, reading.external_id)
    if reading.cancelled is not None:
        async with rt.sessions() as session:
            row = await session.get(IncidentRow, str(incident_id))
        if row is None:
            return EidoAnswer(incident_id=incident_id, status=EidoStatus.IGNORED)
        retracted = await intake.retract(rt, row, reading.cancelled)
        status = EidoStatus.RETRACTED if retracted else EidoStatus.DUPLICATE
        return EidoAnswer(incident_id=incident_id, status=status)
    if reading.report is None:
        return EidoAnswer(incident_id=incident_id, status=EidoStatus.IGNORED)
    result = await writer.submit(agency_id, reading.report)
    return EidoAnswer(incident_id=result.incident_id, status=EidoStatus(result.status.value))


async def _eido_settings(session: AsyncSession, agency_id: str) -> eido.EidoSettings:
    row = await session.get(EidoSettingsRow, agency_id)
    if row is None:
        return eido.EidoSettings(agency_identifiers=frozenset({agency_id.lower()}))
    return eido.EidoSettings(
        agency_identifiers=frozenset(row.agency_identifiers),
        dispatchers=row.dispatchers,
        personnel_id=eido.PersonnelIdFrom(row.personnel_id),
    )


def _settings_body(settings: eido.EidoSettings) -> EidoSettingsBody:
    return EidoSettingsBody(
        agency_identifiers=sorted(settings.agency_identifiers),
        dispatchers=settings.dispatchers,
        personnel_id=settings.personnel_id,
    )


@router.get(
    "/eido/settings",
    response_model=EidoSettingsBody,
    responses=PROBLEMS,
    summary="How the agency's EIDOs are read (the defaults until set)",
)
async def get_eido_settings(caller: Coordinator, rt: Runtime) -> EidoSettingsBody:
    async with rt.readers() as session:
        return _settings_body(await _eido_settings(session, caller.agency))


@router.put(
    "/eido/settings",
    response_model=EidoSettingsBody,
    responses=PROBLEMS,
    summary="Set how the agency's EIDOs are read",
)
async def put_eido_settings(
    body: EidoSettingsBody, caller: Coordinator, rt: Runtime
) -> EidoSettingsBody:
    values = {
        "agency_identifiers": sorted({i.lower() for i in body.agency_identifiers}),
        "dispatchers": body.dispatchers,
        "personnel_id": body.personnel_id.value,
    }
    async with rt.sessions() as session:
        await put_row(session, EidoSettingsRow, {"agency_id": caller.agency}, values)
        await session.commit()
    return body.model_copy(update={"agency_identifiers": values["agency_identifiers"]})


async def _incident(
    session: AsyncSession, caller: Principal, incident_id: uuid.UUID
) -> IncidentRow:
    """The incident, if the caller's agency owns it (404 / 403 otherwise)."""
    row = await session.get(IncidentRow, str(incident_id))
    if row is None:
        raise Problem(404, "Not Found", "No incident has this id.")
    ensure_agency(caller, row.agency_id)
    return row


@router.get(
    "/incidents/{incident_id}",
    response_model=IncidentView,
    responses=PROBLEMS,
    summary="An incident as kept (coordinators of its agency)",
)
async def get_incident(
    incident_id: IncidentIdPath, caller: Coordinator, rt: Runtime
) -> IncidentView:
    async with rt.sessions() as session:
        row = await _incident(session, caller, incident_id)
        audit.record_read(session, caller, "incident", row.incident_id)
        await session.commit()
    return IncidentView(
        incident_id=uuid.UUID(row.incident_id),
        agency_id=row.agency_id,
        external_id=row.external_id,
        category=Category(row.category),
        occurred_at=row.occurred_at,
        involved=[Involved.model_validate(i) for i in row.involved],
        status="retracted" if row.retraction_reason else "active",
        retraction_reason=row.retraction_reason,
        reported_at=row.reported_at,
        updated_at=row.updated_at,
    )


@router.post(
    "/incidents/{incident_id}/retraction",
    response_model=RetractionAnswer,
    responses=PROBLEMS,
    summary="Retract an incident entered in error (publishes IncidentRetracted once)",
)
async def retract_incident(
    incident_id: IncidentIdPath, body: Retraction, caller: Retractor, rt: Runtime
) -> RetractionAnswer:
    async with rt.sessions() as session:
        row = await _incident(session, caller, incident_id)
    await intake.retract(rt, row, body.reason)
    return RetractionAnswer(incident_id=incident_id, status="retracted")


@router.get(
    "/source-types",
    response_model=list[SourceTypeView],
    responses=PROBLEMS,
    summary="The agency's effective source-type mapping (defaults and overrides)",
)
async def list_source_types(caller: Coordinator, rt: Runtime) -> list[SourceTypeView]:
    async with rt.readers() as session:
        overrides = await intake.agency_overrides(session, caller.agency)
    views = {
        code: SourceTypeView(code=code, category=cat, origin="default")
        for code, cat in DEFAULT_SOURCE_TYPES.items()
    }
    for code, cat in overrides.items():
        views[code] = SourceTypeView(code=code, category=cat, origin="agency")
    return sorted(views.values(), key=lambda v: v.code)


@router.put(
    "/source-types/{code}",
    response_model=SourceTypeView,
    responses=PROBLEMS,
    summary="Map an agency source-type code to a category (null: not critical)",
)
async def put_source_type(
    code: Annotated[SourceType, Path()], body: SourceTypeMapping, caller: Coordinator, rt: Runtime
) -> SourceTypeView:
    key = normalise(code)
    category = body.category.value if body.category else None
    async with rt.sessions() as session:
        where = {"agency_id": caller.agency, "code": key}
        await put_row(session, SourceTypeRow, where, {"category": category})
        await session.commit()
    return SourceTypeView(code=key, category=body.category, origin="agency")


@router.delete(
    "/source-types/{code}",
    status_code=204,
    responses=PROBLEMS,
    summary="Drop the agency's override; the default (if any) applies again",
)
async def delete_source_type(
    code: Annotated[SourceType, Path()], caller: Coordinator, rt: Runtime
) -> Response:
    async with rt.sessions() as session:
        row = await session.get(SourceTypeRow, (caller.agency, normalise(code)))
        if row is not None:
            await session.delete(row)
            await session.commit()
    return Response(status_code=204)
