"""A supporter's own page: their standing, their load, and their own availability.

Role `supporter`, `sub` their supporter_id. They read their certification, training,
open assignments and on-call and leave periods, and change the last two themself
(`self_service`): go on call for some hours from now, come off call, take leave,
cancel leave, each a change of their supporter record like a coordinator's.

A removed or unknown supporter gets 404; another agency's supporter id, 403.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.auth import Principal, Role, require_role
from shared.events import SupporterId
from shared.ids import AgencyId
from shared.routes import Runtime
from shared.vocab import TrainingArea

from .. import self_service
from ..assignment_store import LoadRow
from ..domain import available_at, on_call_at, qualified_until
from ..expiry import due
from ..fields import Body
from ..personal import Personal, Sealer
from ..reminders import HORIZON
from ..store import SupporterRow, TrainingRow, agency_settings, supporter_of
from ..supporters import Span, live_supporter
from .deps import PROBLEMS, Seals

router = APIRouter(prefix="/v1", tags=["me"])

Own = Annotated[Principal, Depends(require_role(Role.SUPPORTER))]
DEFAULT_ON_CALL_HOURS = 12


class Standing(enum.StrEnum):
    """Where one training area stands: `expiring` within 30 days (as reminders warn)."""

    CURRENT = "current"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    MISSING = "missing"


class TrainingStanding(BaseModel):
    area: TrainingArea
    completed_on: date | None
    expires_on: date | None
    status: Standing
    required: bool = Field(description="The agency requires it for certification.")


class MeView(BaseModel):
    """The supporter's own page. Periods listed are current or still to come."""

    supporter_id: SupporterId
    agency_id: AgencyId
    display_name: str
    active: bool
    certified_until: date | None
    certified_now: bool = Field(
        description="Certified and trained in every required area today: eligible to be matched."
    )
    training: list[TrainingStanding]
    open_assignments: int
    max_open_assignments: int
    on_call_now: bool
    available_now: bool
    timezone: str
    on_call: list[Span]
    leave: list[Span]


class OnCall(Body):
    """`{"on_call": true, "hours": 12}`: on call from now for that long, replacing any
    current on-call period; `{"on_call": false}`: any current on-call period ends now."""

    on_call: bool
    hours: int = Field(
        default=DEFAULT_ON_CALL_HOURS, ge=1, le=72, description="Only with on_call true."
    )


async def _view(
    session: AsyncSession, row: SupporterRow, personal: Personal, now: datetime
) -> MeView:
    today = now.date()
    settings = await agency_settings(session, row.agency_id)
    records = {
        TrainingArea(r.area): r
        for r in await session.scalars(
            select(TrainingRow).where(TrainingRow.supporter_id == row.supporter_id)
        )
    }
    training = []
    for area in sorted(records.keys() | settings.required_training):
        record = records.get(area)
        expires_on = record.expires_on if record else None
        status = due(expires_on, today, today + HORIZON)
        training.append(
            TrainingStanding(
                area=area,
                completed_on=record.completed_on if record else None,
                expires_on=expires_on,
                status=Standing(status.value) if status else Standing.CURRENT,
                required=area in settings.required_training,
            )
        )
    supporter = supporter_of(row, {area: r.expires_on for area, r in records.items()})
    qualified = qualified_until(supporter, settings.required_training)
    load = await session.get(LoadRow, row.supporter_id)
    stored, availability = row.profile["availability"], supporter.availability
    return MeView(
        supporter_id=row.supporter_id,
        agency_id=row.agency_id,
        display_name=personal.display_name,
        active=row.active,
        certified_until=row.certified_until,
        certified_now=qualified is not None and qualified >= today,
        training=training,
        open_assignments=load.open_assignments if load else 0,
        max_open_assignments=row.max_open_assignments,
        on_call_now=on_call_at(availability, now),
        available_now=available_at(availability, now),
        timezone=stored["timezone"],
        on_call=_ahead(stored["on_call"], now),
        leave=_ahead(stored["leave"], now),
    )


def _ahead(periods: list[dict], now: datetime) -> list[Span]:
    spans = [Span.model_validate(p) for p in periods]
    return sorted((s for s in spans if s.end > now), key=lambda s: (s.start, s.end))


@router.get(
    "/me",
    response_model=MeView,
    responses=PROBLEMS,
    summary="The calling supporter's own page: certification, training, load, on call and "
    "leave (the read is audited)",
)
async def get_me(caller: Own, rt: Runtime, sealer: Seals) -> MeView:
    async with rt.sessions() as session:
        row = await live_supporter(session, caller, caller.sub)
        view = await _view(
            session, row, sealer.open(row.supporter_id, row.personal), self_service.now()
        )
        audit.record_read(session, caller, "supporter", caller.sub)
        await session.commit()
    return view


async def _change(
    rt: Runtime, caller: Principal, sealer: Sealer, change: self_service.Change
) -> MeView:
    at = self_service.now()
    async with rt.sessions() as session:
        row, personal = await self_service.change_availability(
            session, caller, sealer, change, at, source=rt.source
        )
        view = await _view(session, row, personal, at)
        await session.commit()
    return view


@router.put(
    "/me/on-call",
    response_model=MeView,
    responses=PROBLEMS,
    summary="Go on call for some hours from now, or come off call now (publishes SupporterUpdated)",
)
async def put_on_call(body: OnCall, caller: Own, rt: Runtime, sealer: Seals) -> MeView:
    change = self_service.go_on_call(body.hours) if body.on_call else self_service.come_off_call
    return await _change(rt, caller, sealer, change)


@router.post(
    "/me/leave",
    response_model=MeView,
    responses=PROBLEMS,
    summary="Take leave from start to end: not matched meanwhile (publishes SupporterUpdated)",
)
async def post_leave(body: Span, caller: Own, rt: Runtime, sealer: Seals) -> MeView:
    return await _change(rt, caller, sealer, self_service.take_leave(body))


@router.delete(
    "/me/leave",
    response_model=MeView,
    responses=PROBLEMS,
    summary="Cancel every current and future leave (publishes SupporterUpdated)",
)
async def delete_leave(caller: Own, rt: Runtime, sealer: Seals) -> MeView:
    return await _change(rt, caller, sealer, self_service.cancel_leave)
