"""Peer supporters: put (create or replace), read, list and remove (coordinators).

Listing never carries contact details: opening one supporter does, and that read is
audited on its own.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.events import SupporterId
from shared.ids import AgencyId, PersonnelId
from shared.routes import Runtime
from shared.vocab import TrainingArea

from .. import supporters
from ..personal import Personal
from ..store import SupporterRow, TrainingRow
from ..supporters import SupporterRecord, live_supporter, record_fields
from .deps import PROBLEMS, AgencyQuery, Coordinator, Seals, own_agency

router = APIRouter(prefix="/v1", tags=["supporters"])

SupporterIdPath = Annotated[SupporterId, Path(description="The supporter's id in Peerline")]


class TrainingView(BaseModel):
    area: TrainingArea
    completed_on: date
    expires_on: date


class SupporterView(SupporterRecord):
    supporter_id: SupporterId
    training: list[TrainingView]
    updated_at: datetime


class SupporterSummary(BaseModel):
    """A supporter as listed: no contact details, no availability."""

    supporter_id: SupporterId
    agency_id: AgencyId
    personnel_id: PersonnelId
    display_name: str
    rank: str | None
    unit: str | None
    active: bool
    certified_until: date | None


async def _training(session: AsyncSession, supporter_id: str) -> list[TrainingView]:
    rows = await session.scalars(
        select(TrainingRow)
        .where(TrainingRow.supporter_id == supporter_id)
        .order_by(TrainingRow.area)
    )
    return [
        TrainingView(area=r.area, completed_on=r.completed_on, expires_on=r.expires_on)
        for r in rows
    ]


def _view(row: SupporterRow, personal: Personal, training: list[TrainingView]) -> SupporterView:
    return SupporterView.model_validate(
        {
            **record_fields(row, personal),
            "supporter_id": row.supporter_id,
            "training": training,
            "updated_at": row.updated_at,
        }
    )


@router.put(
    "/supporters/{supporter_id}",
    response_model=SupporterView,
    responses={**PROBLEMS, 201: {"model": SupporterView, "description": "Created"}},
    summary="Create or replace a supporter (publishes SupporterUpdated when it changes)",
)
async def put_supporter(
    supporter_id: SupporterIdPath,
    body: SupporterRecord,
    caller: Coordinator,
    rt: Runtime,
    sealer: Seals,
    response: Response,
) -> SupporterView:
    async with rt.sessions() as session:
        row, written = await supporters.put_supporter(
            session, caller, supporter_id, body, sealer, source=rt.source
        )
        training = await _training(session, supporter_id)
        await session.commit()
    if written.created:
        response.status_code = 201
    personal = Personal(display_name=body.display_name, contact=body.contact)
    return _view(row, personal, training)


@router.get(
    "/supporters/{supporter_id}",
    response_model=SupporterView,
    responses=PROBLEMS,
    summary="A supporter with contact details and training (the read is audited)",
)
async def get_supporter(
    supporter_id: SupporterIdPath, caller: Coordinator, rt: Runtime, sealer: Seals
) -> SupporterView:
    async with rt.sessions() as session:
        row = await live_supporter(session, caller, supporter_id)
        training = await _training(session, supporter_id)
        audit.record_read(session, caller, "supporter", supporter_id)
        await session.commit()
    return _view(row, sealer.open(supporter_id, row.personal), training)


@router.delete(
    "/supporters/{supporter_id}",
    status_code=204,
    responses=PROBLEMS,
    summary="Remove a supporter: personal details and training erased, ids kept",
)
async def delete_supporter(
    supporter_id: SupporterIdPath, caller: Coordinator, rt: Runtime
) -> Response:
    async with rt.sessions() as session:
        await supporters.remove_supporter(session, caller, supporter_id, source=rt.source)
        await session.commit()
    return Response(status_code=204)


@router.get(
    "/supporters",
    response_model=list[SupporterSummary],
    responses=PROBLEMS,
    summary="The agency's supporters, by id, without contact details (the read is audited)",
)
async def list_supporters(
    caller: Coordinator,
    rt: Runtime,
    sealer: Seals,
    agency_id: AgencyQuery = None,
    after: Annotated[
        SupporterId | None, Query(description="Continue after this supporter_id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[SupporterSummary]:
    agency = own_agency(caller, agency_id)
    query = (
        select(SupporterRow)
        .where(SupporterRow.agency_id == agency, SupporterRow.removed_at.is_(None))
        .order_by(SupporterRow.supporter_id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(SupporterRow.supporter_id > after)
    async with rt.sessions() as session:
        rows = (await session.scalars(query)).all()
        audit.record_read(session, caller, "supporter_list", agency)
        await session.commit()
    return [_summary(row, sealer.open(row.supporter_id, row.personal)) for row in rows]


def _summary(row: SupporterRow, personal: Personal) -> SupporterSummary:
    return SupporterSummary(
        supporter_id=row.supporter_id,
        agency_id=row.agency_id,
        personnel_id=row.personnel_id,
        display_name=personal.display_name,
        rank=row.profile.get("rank"),
        unit=row.profile.get("unit"),
        active=row.active,
        certified_until=row.certified_until,
    )
