"""Officers as coordinators keep them (unit, rank, supervisor, and the officer's own
name and contact details), and officers' own preferences.

Officers are keyed by the caller's agency and their `personnel_id`, unique only within
the agency. An officer's name and contact details are the last mile of care: they are
sealed at rest and shown only to the supporter currently assigned to the officer
(`assignments`), never to a coordinator, who writes them and learns only whether any
are on file (`contact_on_file`). Preferences belong to the officer: they set them
themself (role `officer`, `sub` their personnel_id; or role `supporter`, for the
officer their supporter record names, since supporters are officers too), or a
coordinator of their agency does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from shared import audit
from shared.auth import Principal, Role, require_role
from shared.ids import AgencyId, PersonnelId
from shared.routes import Runtime

from .. import officers
from ..officers import PREFERENCES, OfficerRecord, PreferencesRecord
from ..personal import OfficerPersonal
from ..store import OfficerRow, PreferencesRow
from .deps import PROBLEMS, AgencyQuery, Coordinator, Seals, own_agency

router = APIRouter(prefix="/v1", tags=["officers"])

PersonnelIdPath = Annotated[PersonnelId, Path(description="The agency's id for the officer")]
# Who may touch preferences at all; `officers.ensure_acts_for` then decides for which officer.
Person = Annotated[Principal, Depends(require_role(Role.OFFICER, Role.SUPPORTER, Role.COORDINATOR))]


class OfficerView(BaseModel):
    """An officer as coordinators see them: never their name or contact details."""

    agency_id: AgencyId
    personnel_id: PersonnelId
    unit: str | None
    rank: str | None
    supervisor_id: PersonnelId | None
    background: list[str]
    contact_on_file: bool = Field(
        description="Whether a phone number or an e-mail address of the officer is on file."
    )
    updated_at: datetime


class PreferencesView(BaseModel):
    agency_id: AgencyId
    personnel_id: PersonnelId
    preferred_gender: str | None
    languages: list[str]
    outside_agency: bool
    opted_out: bool
    updated_at: datetime | None = Field(description="Null: never set, the defaults apply.")


def _officer_view(row: OfficerRow, personal: OfficerPersonal) -> OfficerView:
    """The coordinator's view: `personal` only says whether contact details are on file."""
    return OfficerView(
        agency_id=row.agency_id,
        personnel_id=row.personnel_id,
        unit=row.unit,
        rank=row.rank,
        supervisor_id=row.supervisor_id,
        background=row.background or [],
        contact_on_file=personal.contact.on_file(),
        updated_at=row.updated_at,
    )


@router.put(
    "/officers/{personnel_id}",
    response_model=OfficerView,
    responses={**PROBLEMS, 201: {"model": OfficerView, "description": "Created"}},
    summary="Create or replace an officer's unit, rank, supervisor and sealed contact "
    "details (publishes OfficerUpdated when they change; never answers the details)",
)
async def put_officer(
    personnel_id: PersonnelIdPath,
    body: OfficerRecord,
    caller: Coordinator,
    rt: Runtime,
    sealer: Seals,
    response: Response,
) -> OfficerView:
    agency = own_agency(caller, body.agency_id)
    async with rt.sessions() as session:
        row, written = await officers.put_officer(
            session, agency, personnel_id, body, sealer, source=rt.source
        )
        await session.commit()
    if written.created:
        response.status_code = 201
    return _officer_view(row, body.personal())


@router.get(
    "/officers/{personnel_id}",
    response_model=OfficerView,
    responses=PROBLEMS,
    summary="An officer of the agency, without their name or contact details (the read is audited)",
)
async def get_officer(
    personnel_id: PersonnelIdPath,
    caller: Coordinator,
    rt: Runtime,
    sealer: Seals,
    agency_id: AgencyQuery = None,
) -> OfficerView:
    agency = own_agency(caller, agency_id)
    async with rt.sessions() as session:
        row = await officers.officer(session, agency, personnel_id)
        audit.record_read(session, caller, "officer", personnel_id)
        await session.commit()
    return _officer_view(row, sealer.open_officer(agency, personnel_id, row.personal))


@router.get(
    "/officers",
    response_model=list[OfficerView],
    responses=PROBLEMS,
    summary="The agency's officers, by personnel_id, without names or contact details "
    "(the read is audited)",
)
async def list_officers(
    caller: Coordinator,
    rt: Runtime,
    sealer: Seals,
    agency_id: AgencyQuery = None,
    after: Annotated[
        PersonnelId | None, Query(description="Continue after this personnel_id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[OfficerView]:
    agency = own_agency(caller, agency_id)
    query = (
        select(OfficerRow)
        .where(OfficerRow.agency_id == agency)
        .order_by(OfficerRow.personnel_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(OfficerRow.personnel_id > after)
    async with rt.sessions() as session:
        rows = (await session.scalars(query)).all()
        audit.record_read(session, caller, "officer_list", agency)
        await session.commit()
    return [
        _officer_view(row, sealer.open_officer(agency, row.personnel_id, row.personal))
        for row in rows
    ]


def _preferences_view(
    agency: str, personnel_id: str, row: PreferencesRow | None
) -> PreferencesView:
    """The stored preferences, or the defaults if the officer never set any."""
    if row is None:
        values, updated_at = PreferencesRecord().model_dump(include=PREFERENCES), None
    else:
        values = {name: getattr(row, name) for name in PREFERENCES}
        updated_at = row.updated_at
    return PreferencesView(
        agency_id=agency, personnel_id=personnel_id, updated_at=updated_at, **values
    )


@router.put(
    "/officers/{personnel_id}/preferences",
    response_model=PreferencesView,
    responses=PROBLEMS,
    summary="Set an officer's preferences (the officer, or a coordinator); publishes "
    "PreferencesUpdated when they change",
)
async def put_preferences(
    personnel_id: PersonnelIdPath, body: PreferencesRecord, caller: Person, rt: Runtime
) -> PreferencesView:
    agency = own_agency(caller, body.agency_id)
    async with rt.sessions() as session:
        row = await officers.put_preferences(
            session, caller, agency, personnel_id, body, source=rt.source
        )
        await session.commit()
    return _preferences_view(agency, personnel_id, row)


@router.get(
    "/officers/{personnel_id}/preferences",
    response_model=PreferencesView,
    responses=PROBLEMS,
    summary="An officer's preferences (the officer, or a coordinator; the read is audited)",
)
async def get_preferences(
    personnel_id: PersonnelIdPath, caller: Person, rt: Runtime, agency_id: AgencyQuery = None
) -> PreferencesView:
    agency = own_agency(caller, agency_id)
    async with rt.sessions() as session:
        await officers.ensure_acts_for(session, caller, personnel_id)
        row = await session.get(PreferencesRow, (agency, personnel_id))
        audit.record_read(session, caller, "preferences", personnel_id)
        await session.commit()
    return _preferences_view(agency, personnel_id, row)
