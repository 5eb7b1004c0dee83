"""The roster service's tables, and the roster loaded as `domain` values for matching.

A supporter's name and contact details are one sealed value (`personal`); what
matching and the coordinators' lists filter on stays in clear columns, and the rest of
the profile (rank, unit, languages, availability, quiet hours, ...) is one JSON
document. A removed supporter keeps a row with ids only, so assignments that name them
still resolve. Coordinators' names and contact details are sealed the same way, and
so are officers' own (`OfficerRow.personal`), which only the supporter assigned to the
officer ever reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    Select,
    String,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, service_metadata
from shared.vocab import Category

from .domain import (
    AgencySettings,
    Availability,
    Officer,
    Period,
    Preferences,
    Supporter,
    TrainingArea,
    Weekday,
    WeeklyWindow,
)

# Rows per statement while loading the whole roster: on SQLite a statement holds the
# event loop, so 100,000 officers are read in steps that let requests in between.
CHUNK = 2_000


class Base(DeclarativeBase):
    """The roster service's own tables (the kernel's: `shared.db.KernelBase`)."""

    metadata = service_metadata()


class SupporterRow(Base):
    __tablename__ = "supporters"

    supporter_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
    personnel_id: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean)
    certified_until: Mapped[date | None] = mapped_column(Date, default=None)
    max_open_assignments: Mapped[int] = mapped_column(Integer)
    accepts_cross_agency: Mapped[bool] = mapped_column(Boolean)
    # rank, unit, gender, languages, background, specialties, availability, quiet_hours
    profile: Mapped[dict] = mapped_column(JSON)
    # display name and contact, sealed (`personal.Sealer`); None once removed
    personal: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TrainingRow(Base):
    __tablename__ = "supporter_training"

    supporter_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("supporters.supporter_id"), primary_key=True
    )
    area: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
    completed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OfficerRow(Base):
    __tablename__ = "officers"

    agency_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    personnel_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    unit: Mapped[str | None] = mapped_column(String(64), default=None)
    rank: Mapped[str | None] = mapped_column(String(64), default=None)
    supervisor_id: Mapped[str | None] = mapped_column(String(128), default=None)
    background: Mapped[list | None] = mapped_column(JSON, default=None)  # codes
    # the officer's name and how their supporter reaches them, sealed
    # (`personal.Sealer.seal_officer`); None when none are on file
    personal: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class PreferencesRow(Base):
    __tablename__ = "officer_preferences"

    agency_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    personnel_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    preferred_gender: Mapped[str | None] = mapped_column(String(64), default=None)
    languages: Mapped[list] = mapped_column(JSON)
    outside_agency: Mapped[bool] = mapped_column(Boolean)
    opted_out: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ResourceRow(Base):
    __tablename__ = "resources"

    resource_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    # None: a region-wide resource
    agency_id: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    name: Mapped[str] = mapped_column(String(200))
    resource_type: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32), default=None)
    url: Mapped[str | None] = mapped_column(String(2048), default=None)
    crisis_line: Mapped[bool] = mapped_column(Boolean)
    always_open: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CoordinatorRow(Base):
    """A program coordinator as notifications reach them (overdue offers, unfilled
    assignments). Nothing refers to a coordinator by id, so removing one deletes the
    row."""

    __tablename__ = "coordinators"

    coordinator_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(32), index=True)
    active: Mapped[bool] = mapped_column(Boolean)
    timezone: Mapped[str] = mapped_column(String(64))
    quiet_hours: Mapped[dict | None] = mapped_column(JSON, default=None)  # {start, end}
    # display name and contact, sealed (`personal.Sealer`, kind `coordinator`)
    personal: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AgencySettingsRow(Base):
    __tablename__ = "agency_settings"

    agency_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    exclude_same_unit: Mapped[bool] = mapped_column(Boolean)
    share_with_region: Mapped[bool] = mapped_column(Boolean)
    use_regional_pool: Mapped[bool] = mapped_column(Boolean)
    required_training: Mapped[list] = mapped_column(JSON)
    care_for_carers_after: Mapped[int] = mapped_column(Integer)
    acknowledge_request_within: Mapped[int] = mapped_column(Integer, default=600)  # seconds
    acknowledge_assignment_within: Mapped[int] = mapped_column(Integer, default=14_400)
    max_moves: Mapped[int] = mapped_column(Integer, default=3)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    def settings(self) -> AgencySettings:
        return AgencySettings(
            agency_id=self.agency_id,
            exclude_same_unit=self.exclude_same_unit,
            share_with_region=self.share_with_region,
            use_regional_pool=self.use_regional_pool,
            required_training=frozenset(TrainingArea(a) for a in self.required_training),
            care_for_carers_after=self.care_for_carers_after,
            acknowledge_request_within=timedelta(seconds=self.acknowledge_request_within),
            acknowledge_assignment_within=timedelta(seconds=self.acknowledge_assignment_within),
            max_moves=self.max_moves,
        )


async def agency_settings(session: AsyncSession, agency_id: str) -> AgencySettings:
    """The agency's settings, or the defaults if its coordinator never set any."""
    row = await session.get(AgencySettingsRow, agency_id)
    return row.settings() if row is not None else AgencySettings(agency_id=agency_id)


class IndexInputs(NamedTuple):
    """Everything matching decides with, as `domain` values."""

    supporters: list[Supporter]
    officers: list[Officer]
    preferences: dict[tuple[str, str], Preferences]  # by (agency_id, personnel_id)
    settings: dict[str, AgencySettings]  # by agency_id, defaults where none are stored


async def load_index_inputs(session: AsyncSession, agencies: set[str] | None = None) -> IndexInputs:
    """The roster of `agencies` (None: the whole region) for matching.

    Removed supporters are left out; inactive ones are kept (matching decides on
    `active`). `open_assignments` is 0: the roster does not count assignments. Every
    agency asked for, or (for the whole region) every agency with any roster record,
    has settings. Contact details are never opened.
    """

    def scoped(stmt: Select, column) -> Select:
        return stmt if agencies is None else stmt.where(column.in_(agencies))

    supporters = [supporter for supporter, _ in await load_supporters(session, agencies)]

    query = scoped(_plain(OfficerRow, leave_out=frozenset({"personal"})), OfficerRow.agency_id)
    officers = [
        Officer(
            agency_id=row.agency_id,
            personnel_id=row.personnel_id,
            unit=row.unit,
            rank=row.rank,
            supervisor_id=row.supervisor_id,
            background=frozenset(row.background or ()),
        )
        async for row in _chunks(session, query, OfficerRow.agency_id, OfficerRow.personnel_id)
    ]

    query = scoped(_plain(PreferencesRow), PreferencesRow.agency_id)
    preferences = {
        (row.agency_id, row.personnel_id): Preferences(
            preferred_gender=row.preferred_gender,
            languages=frozenset(row.languages),
            outside_agency=row.outside_agency,
            opted_out=row.opted_out,
        )
        async for row in _chunks(
            session, query, PreferencesRow.agency_id, PreferencesRow.personnel_id
        )
    }

    query = scoped(select(AgencySettingsRow), AgencySettingsRow.agency_id)
    settings = {row.agency_id: row.settings() for row in (await session.scalars(query))}
    seen = (
        agencies
        if agencies is not None
        else {s.agency_id for s in supporters}
        | {o.agency_id for o in officers}
        | {agency for agency, _ in preferences}
    )
    for agency in seen - settings.keys():
        settings[agency] = AgencySettings(agency_id=agency)
    return IndexInputs(supporters, officers, preferences, settings)


async def load_supporters(
    session: AsyncSession, agencies: set[str] | None = None
) -> list[tuple[Supporter, bytes | None]]:
    """The supporters of `agencies` (None: the whole region) as matching sees them, each
    with their sealed name and contact details, unopened. Removed supporters are left
    out; inactive ones are kept. What matching and the peer directory both read."""

    def scoped(stmt: Select, column) -> Select:
        return stmt if agencies is None else stmt.where(column.in_(agencies))

    training: dict[str, dict[TrainingArea, date]] = {}
    query = scoped(_plain(TrainingRow), TrainingRow.agency_id)
    async for row in _chunks(session, query, TrainingRow.supporter_id, TrainingRow.area):
        training.setdefault(row.supporter_id, {})[TrainingArea(row.area)] = row.expires_on

    query = scoped(_plain(SupporterRow), SupporterRow.agency_id).where(
        SupporterRow.removed_at.is_(None)
    )
    return [
        (supporter_of(row, training.get(row.supporter_id, {})), row.personal)
        async for row in _chunks(session, query, SupporterRow.supporter_id)
    ]


def _plain(model, leave_out: frozenset[str] = frozenset()) -> Select:
    """Every column of `model`'s table (but those left out) as plain rows: a region's
    roster is some 170,000 rows, which load several times faster without an ORM object
    for each. Officers' sealed details are left out: matching never needs them."""
    return select(*(column for column in model.__table__.c if column.key not in leave_out))


async def _chunks(session: AsyncSession, query: Select, *keys) -> AsyncIterator:
    """The rows `query` selects, in key order, `CHUNK` rows per statement."""
    last: tuple | None = None
    while True:
        page = query.order_by(*keys).limit(CHUNK)
        if last is not None:
            page = page.where(tuple_(*keys) > tuple_(*last))
        rows = (await session.execute(page)).all()
        for row in rows:
            yield row
        if len(rows) < CHUNK:
            return
        last = tuple(getattr(rows[-1], key.key) for key in keys)


def supporter_of(row, training: dict[TrainingArea, date]) -> Supporter:
    """A supporter row (or plain row of its columns) and their training's expiry dates
    as matching sees them, `open_assignments` 0."""
    profile = row.profile
    return Supporter(
        supporter_id=row.supporter_id,
        agency_id=row.agency_id,
        personnel_id=row.personnel_id,
        active=row.active,
        certified_until=row.certified_until,
        training=training,
        max_open_assignments=row.max_open_assignments,
        accepts_cross_agency=row.accepts_cross_agency,
        gender=profile.get("gender"),
        languages=frozenset(profile["languages"]),
        background=frozenset(profile["background"]),
        specialties=frozenset(Category(c) for c in profile["specialties"]),
        rank=profile.get("rank"),
        unit=profile.get("unit"),
        availability=availability_of(profile["availability"]),
    )


def availability_of(stored: dict) -> Availability:
    """A stored availability document as the domain's value."""

    def periods(key: str) -> tuple[Period, ...]:
        return tuple(
            Period(datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"]))
            for p in stored[key]
        )

    return Availability(
        timezone=stored["timezone"],
        weekly=tuple(
            WeeklyWindow(
                Weekday(w["day"]), time.fromisoformat(w["start"]), time.fromisoformat(w["end"])
            )
            for w in stored["weekly"]
        ),
        on_call=periods("on_call"),
        leave=periods("leave"),
    )
