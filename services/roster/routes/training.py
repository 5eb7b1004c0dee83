"""Supporters' training: a dated record per area, and what expires soon (coordinators)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, field_validator
from sqlalchemy import select

from shared import audit
from shared.events import SupporterId, TrainingUpdated
from shared.ids import PersonnelId
from shared.vocab import TrainingArea

from .. import revision
from ..expiry import Due, due
from ..fields import Body
from ..http import PROBLEMS, AgencyQuery, Coordinator, Runtime, live_supporter, own_agency
from ..store import SupporterRow, TrainingRow, agency_settings
from .supporters import SupporterIdPath, TrainingView

router = APIRouter(prefix="/v1", tags=["training"])


class TrainingRecord(Body):
    completed_on: date
    expires_on: date

    @field_validator("expires_on")
    @classmethod
    def _after_completion(cls, expires_on: date, info) -> date:
        completed_on = info.data.get("completed_on")
        if completed_on is not None and expires_on <= completed_on:
            raise ValueError("expires_on must be after completed_on")
        return expires_on


class Expiring(BaseModel):
    """One thing a supporter must renew: their certification (`area` null) or a
    training area the agency requires."""

    supporter_id: SupporterId
    personnel_id: PersonnelId
    area: TrainingArea | None
    expires_on: date | None
    status: Due


@router.put(
    "/supporters/{supporter_id}/training/{area}",
    response_model=TrainingView,
    responses={**PROBLEMS, 201: {"model": TrainingView, "description": "Created"}},
    summary="Record a supporter's training in one area (publishes TrainingUpdated)",
)
async def put_training(
    supporter_id: SupporterIdPath,
    area: Annotated[TrainingArea, Path()],
    body: TrainingRecord,
    caller: Coordinator,
    rt: Runtime,
    response: Response,
) -> TrainingView:
    async with rt.sessions() as session:
        supporter = await live_supporter(session, caller, supporter_id)
        row = await session.get(TrainingRow, (supporter_id, area.value))
        if row is None:
            row = TrainingRow(
                supporter_id=supporter_id, area=area.value, agency_id=supporter.agency_id
            )
            session.add(row)
            response.status_code = 201
        elif (row.completed_on, row.expires_on) == (body.completed_on, body.expires_on):
            return TrainingView(area=area, completed_on=row.completed_on, expires_on=row.expires_on)
        row.completed_on = body.completed_on
        row.expires_on = body.expires_on
        row.updated_at = datetime.now(UTC)
        await revision.changed(
            session,
            TrainingUpdated(
                agency_id=supporter.agency_id,
                supporter_id=supporter_id,
                area=area,
                completed_on=body.completed_on,
                expires_on=body.expires_on,
            ),
            source=rt.source,
        )
        await rt.commit(session)
    return TrainingView(area=area, completed_on=body.completed_on, expires_on=body.expires_on)


@router.get(
    "/training/expiring",
    response_model=list[Expiring],
    responses=PROBLEMS,
    summary="The agency's active supporters whose certification or required training is "
    "missing, expired, or expires within `within_days` (the read is audited)",
)
async def list_expiring(
    caller: Coordinator,
    rt: Runtime,
    within_days: Annotated[int, Query(ge=0, le=366)] = 30,
    agency_id: AgencyQuery = None,
) -> list[Expiring]:
    agency = own_agency(caller, agency_id)
    today = datetime.now(UTC).date()
    horizon = today + timedelta(days=within_days)
    async with rt.sessions() as session:
        required = sorted((await agency_settings(session, agency)).required_training)
        supporters = (
            await session.execute(
                select(
                    SupporterRow.supporter_id,
                    SupporterRow.personnel_id,
                    SupporterRow.certified_until,
                ).where(
                    SupporterRow.agency_id == agency,
                    SupporterRow.active.is_(True),
                    SupporterRow.removed_at.is_(None),
                )
            )
        ).all()
        held: dict[str, dict[str, date]] = {}
        training = await session.execute(
            select(TrainingRow.supporter_id, TrainingRow.area, TrainingRow.expires_on).where(
                TrainingRow.agency_id == agency
            )
        )
        for supporter_id, area, expires_on in training:
            held.setdefault(supporter_id, {})[area] = expires_on
        audit.record_read(session, caller, "training_expiring", agency)
        await session.commit()
    found = []
    for supporter in supporters:
        areas = held.get(supporter.supporter_id, {})
        checks = [(None, supporter.certified_until)] + [(a, areas.get(a)) for a in required]
        for area, valid_until in checks:
            status = due(valid_until, today, horizon)
            if status is not None:
                found.append(
                    Expiring(
                        supporter_id=supporter.supporter_id,
                        personnel_id=supporter.personnel_id,
                        area=area,
                        expires_on=valid_until,
                        status=status,
                    )
                )
    return sorted(found, key=lambda e: (e.expires_on or date.min, e.supporter_id, e.area or ""))
