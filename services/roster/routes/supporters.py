"""Peer supporters: put (create or replace), read, list and remove (coordinators).

Removing a supporter erases their name, contact details and profile, and keeps a row
with their ids, so an assignment that names them still resolves; putting the same id
again restores them. Listing never carries contact details: opening one supporter does,
and that read is audited on its own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.auth import Principal, ensure_agency
from shared.events import SupporterId, SupporterRemoved, SupporterUpdated, UtcDatetime
from shared.ids import AgencyId, PersonnelId
from shared.problems import Problem
from shared.routes import Runtime
from shared.vocab import TrainingArea

from .. import revision
from ..domain import DEFAULT_MAX_OPEN, Weekday
from ..fields import (
    Body,
    Categories,
    Code,
    Codes,
    Label,
    Languages,
    Name,
    QuietHours,
    TimeOfDay,
    TimeZone,
)
from ..http import PROBLEMS, AgencyQuery, Coordinator, Seals, live_supporter, own_agency
from ..personal import Contact, Personal, Sealer
from ..revision import Written
from ..store import SupporterRow, TrainingRow

router = APIRouter(prefix="/v1", tags=["supporters"])

SupporterIdPath = Annotated[SupporterId, Path(description="The supporter's id in Peerline")]
MAX_PERIODS = 500


class Weekly(Body):
    """A weekly window in the supporter's time zone; `end` at or before `start` runs
    past midnight."""

    day: Weekday
    start: TimeOfDay
    end: TimeOfDay


class Span(Body):
    start: UtcDatetime
    end: UtcDatetime

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: datetime, info) -> datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("end must be after start")
        return end


class AvailabilityRecord(Body):
    """Weekly windows plus on-call periods, minus leave. No window and no on-call period
    means no stated limits."""

    timezone: TimeZone = "UTC"
    weekly: list[Weekly] = Field(default_factory=list, max_length=50)
    on_call: list[Span] = Field(default_factory=list, max_length=MAX_PERIODS)
    leave: list[Span] = Field(default_factory=list, max_length=MAX_PERIODS)


class SupporterRecord(Body):
    """The body of `PUT /v1/supporters/{supporter_id}` (the contract's record shape)."""

    agency_id: AgencyId = Field(description="The supporter's agency: the token's.")
    personnel_id: PersonnelId = Field(description="Unique among the agency's supporters.")
    display_name: Name = Field(description="Sealed at rest, with contact.")
    contact: Contact = Field(default_factory=Contact)
    rank: Label | None = None
    unit: Label | None = None
    gender: Code | None = None
    languages: Languages = Field(default_factory=list)
    background: Codes = Field(default_factory=list)
    specialties: Categories = Field(
        default_factory=list, description="Categories of incident they have experience with."
    )
    certified_until: date | None = None
    active: bool = True
    max_open_assignments: int = Field(default=DEFAULT_MAX_OPEN, ge=0, le=50)
    accepts_cross_agency: bool = False
    availability: AvailabilityRecord = Field(default_factory=AvailabilityRecord)
    quiet_hours: QuietHours | None = Field(
        default=None,
        description="No non-urgent notifications then, in the availability's time zone.",
    )


# The part of a record kept as one JSON document; the rest has columns or is sealed.
PROFILE = {
    "rank",
    "unit",
    "gender",
    "languages",
    "background",
    "specialties",
    "availability",
    "quiet_hours",
}


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


def _columns(record: SupporterRecord) -> dict:
    return {
        "personnel_id": record.personnel_id,
        "active": record.active,
        "certified_until": record.certified_until,
        "max_open_assignments": record.max_open_assignments,
        "accepts_cross_agency": record.accepts_cross_agency,
        "profile": record.model_dump(mode="json", include=PROFILE),
    }


def _changed(row: SupporterRow, columns: dict, personal: Personal, sealer: Sealer) -> bool:
    if row.removed_at is not None:
        return True
    if any(getattr(row, name) != value for name, value in columns.items()):
        return True
    return sealer.open(row.supporter_id, row.personal) != personal


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


async def _ensure_personnel_id_free(
    session: AsyncSession, record: SupporterRecord, supporter_id: str
) -> None:
    clash = await session.scalar(
        select(SupporterRow.supporter_id)
        .where(
            SupporterRow.agency_id == record.agency_id,
            SupporterRow.personnel_id == record.personnel_id,
            SupporterRow.supporter_id != supporter_id,
            SupporterRow.removed_at.is_(None),
        )
        .limit(1)
    )
    if clash is not None:
        message = "another supporter of the agency has this personnel_id"
        raise Problem(409, "Conflict", message, errors=[{"loc": ["personnel_id"], "msg": message}])


def record_of(row: SupporterRow, personal: Personal) -> SupporterRecord:
    """The record a live supporter's row holds, as a `PUT` would send it again: the
    start of a change of one part of it, made by `write_supporter` like any other."""
    return SupporterRecord.model_validate(_record_fields(row, personal))


def _record_fields(row: SupporterRow, personal: Personal) -> dict:
    return {
        **row.profile,
        "agency_id": row.agency_id,
        "personnel_id": row.personnel_id,
        "display_name": personal.display_name,
        "contact": personal.contact,
        "certified_until": row.certified_until,
        "active": row.active,
        "max_open_assignments": row.max_open_assignments,
        "accepts_cross_agency": row.accepts_cross_agency,
    }


def _view(row: SupporterRow, personal: Personal, training: list[TrainingView]) -> SupporterView:
    return SupporterView.model_validate(
        {
            **_record_fields(row, personal),
            "supporter_id": row.supporter_id,
            "training": training,
            "updated_at": row.updated_at,
        }
    )


def _updated(row: SupporterRow) -> SupporterUpdated:
    return SupporterUpdated(
        agency_id=row.agency_id,
        supporter_id=row.supporter_id,
        personnel_id=row.personnel_id,
        active=row.active,
        certified_until=row.certified_until,
        max_open_assignments=row.max_open_assignments,
        accepts_cross_agency=row.accepts_cross_agency,
    )


async def write_supporter(
    session: AsyncSession,
    caller: Principal,
    supporter_id: str,
    record: SupporterRecord,
    sealer: Sealer,
    *,
    stored: SupporterRow | None,
) -> tuple[SupporterRow, Written]:
    """Put `record` as the supporter `supporter_id`, whose row is `stored` (None: a new
    supporter; the caller reads it, so an import reads all of its rows at once). The one
    write behind `PUT /v1/supporters/{supporter_id}` and the import, so both hold the
    same rules: another agency's supporter is refused (403), as is a personnel_id
    another supporter of the agency has (409), and the name and contact details are
    sealed. Nothing is written, and no event is given, when the record is what is
    stored."""
    ensure_agency(caller, record.agency_id)
    row = stored
    if row is not None and row.agency_id != caller.agency:
        message = "another agency's supporter has this supporter_id"
        raise Problem(403, "Forbidden", message, errors=[{"loc": ["supporter_id"], "msg": message}])
    await _ensure_personnel_id_free(session, record, supporter_id)
    personal = Personal(display_name=record.display_name, contact=record.contact)
    columns = _columns(record)
    created = row is None
    if created:
        row = SupporterRow(supporter_id=supporter_id, agency_id=record.agency_id)
        session.add(row)
    elif not _changed(row, columns, personal, sealer):
        return row, Written(created=False, event=None)
    for name, value in columns.items():
        setattr(row, name, value)
    row.personal = sealer.seal(supporter_id, personal)
    row.removed_at = None
    row.updated_at = datetime.now(UTC)
    return row, Written(created=created, event=_updated(row))


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
        stored = await session.get(SupporterRow, supporter_id)
        row, written = await write_supporter(
            session, caller, supporter_id, body, sealer, stored=stored
        )
        if written.event is not None:
            await revision.changed(session, written.event, source=rt.source)
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
        row = await session.get(SupporterRow, supporter_id)
        if row is None:
            raise Problem(404, "Not Found", "No supporter has this id.")
        ensure_agency(caller, row.agency_id)
        if row.removed_at is None:
            await _remove(session, row)
            await revision.changed(
                session,
                SupporterRemoved(agency_id=row.agency_id, supporter_id=supporter_id),
                source=rt.source,
            )
            await session.commit()
    return Response(status_code=204)


async def _remove(session: AsyncSession, row: SupporterRow) -> None:
    await session.execute(delete(TrainingRow).where(TrainingRow.supporter_id == row.supporter_id))
    now = datetime.now(UTC)
    row.active = False
    row.profile = {}
    row.personal = None
    row.removed_at = now
    row.updated_at = now


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
