"""`POST /v1/eido` and the agency's EIDO settings: thin, the EIDO use case does the
work."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from shared.routes import Runtime, problems

from .. import eido, eido_intake
from ..eido_intake import EidoStatus
from .deps import PROBLEMS, Coordinator, Ingest, Writer

router = APIRouter(prefix="/v1")


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

    @classmethod
    def of(cls, settings: eido.EidoSettings) -> EidoSettingsBody:
        return cls(
            agency_identifiers=sorted(settings.agency_identifiers),
            dispatchers=settings.dispatchers,
            personnel_id=settings.personnel_id,
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
    outcomes = await eido_intake.report(rt, writer, caller.agency, await request.body())
    return [EidoAnswer(incident_id=o.incident_id, status=o.status) for o in outcomes]


@router.get(
    "/eido/settings",
    response_model=EidoSettingsBody,
    responses=PROBLEMS,
    summary="How the agency's EIDOs are read (the defaults until set)",
)
async def get_eido_settings(caller: Coordinator, rt: Runtime) -> EidoSettingsBody:
    return EidoSettingsBody.of(await eido_intake.settings(rt, caller.agency))


@router.put(
    "/eido/settings",
    response_model=EidoSettingsBody,
    responses=problems(s409="An identifier belongs to another agency"),
    summary="Set how the agency's EIDOs are read",
)
async def put_eido_settings(
    body: EidoSettingsBody, caller: Coordinator, rt: Runtime
) -> EidoSettingsBody:
    wanted = eido.EidoSettings(
        agency_identifiers=frozenset(body.agency_identifiers),
        dispatchers=body.dispatchers,
        personnel_id=body.personnel_id,
    )
    return EidoSettingsBody.of(await eido_intake.set_settings(rt, caller.agency, wanted))
