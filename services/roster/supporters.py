"""Peer supporters on the roster: put (create or replace), remove, and find one.

Removing a supporter erases their name, contact details and profile, and keeps a row
with their ids, so an assignment that names them still resolves; putting the same id
again restores them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import Field, field_validator
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, ensure_agency
from shared.errors import Conflict, NotAllowed, NotFound
from shared.events import SupporterRemoved, SupporterUpdated, UtcDatetime
from shared.ids import AgencyId, PersonnelId

from . import revision
from .domain import DEFAULT_MAX_OPEN, Weekday
from .fields import (
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
from .personal import Contact, Personal, Sealer
from .revision import Written
from .store import SupporterRow, TrainingRow

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
        raise Conflict(
            "another supporter of the agency has this personnel_id", field="personnel_id"
        )


def record_of(row: SupporterRow, personal: Personal) -> SupporterRecord:
    """The record a live supporter's row holds, as a `PUT` would send it again: the
    start of a change of one part of it, made by `write_supporter` like any other."""
    return SupporterRecord.model_validate(record_fields(row, personal))


def record_fields(row: SupporterRow, personal: Personal) -> dict:
    """The fields of the record a supporter's row holds, with its opened `personal`."""
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
    write behind `PUT /v1/supporters/{supporter_id}`, the import and a supporter's own
    changes, so all hold the same rules: another agency's supporter is refused, as is a
    personnel_id another supporter of the agency has, and the name and contact details
    are sealed. Nothing is written, and no event is given, when the record is what is
    stored."""
    ensure_agency(caller, record.agency_id)
    row = stored
    if row is not None and row.agency_id != caller.agency:
        raise NotAllowed("another agency's supporter has this supporter_id", field="supporter_id")
    await _ensure_personnel_id_free(session, record, supporter_id)
    await sealer.check(record.contact)
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


async def put_supporter(
    session: AsyncSession,
    caller: Principal,
    supporter_id: str,
    record: SupporterRecord,
    sealer: Sealer,
    *,
    source: str,
) -> tuple[SupporterRow, Written]:
    """`write_supporter` for one supporter, its event staged with a new revision."""
    stored = await session.get(SupporterRow, supporter_id)
    row, written = await write_supporter(
        session, caller, supporter_id, record, sealer, stored=stored
    )
    if written.event is not None:
        await revision.changed(session, written.event, source=source)
    return row, written


async def live_supporter(
    session: AsyncSession, caller: Principal, supporter_id: str
) -> SupporterRow:
    """The supporter, if on the roster and of the caller's agency."""
    row = await session.get(SupporterRow, supporter_id)
    if row is None:
        raise NotFound("No supporter has this id.")
    ensure_agency(caller, row.agency_id)
    if row.removed_at is not None:
        raise NotFound("This supporter was removed from the roster.")
    return row


async def remove_supporter(
    session: AsyncSession, caller: Principal, supporter_id: str, *, source: str
) -> None:
    """Erase the supporter's personal details and training, keep their ids, and stage
    `SupporterRemoved`; a supporter removed already stays as they are."""
    row = await session.get(SupporterRow, supporter_id)
    if row is None:
        raise NotFound("No supporter has this id.")
    ensure_agency(caller, row.agency_id)
    if row.removed_at is not None:
        return
    await session.execute(delete(TrainingRow).where(TrainingRow.supporter_id == supporter_id))
    now = datetime.now(UTC)
    row.active = False
    row.profile = {}
    row.personal = None
    row.removed_at = now
    row.updated_at = now
    await revision.changed(
        session, SupporterRemoved(agency_id=row.agency_id, supporter_id=supporter_id), source=source
    )
