"""The EIDO use case: read an agency's EIDOs the way its settings say, then apply each
through the same intake as `POST /v1/incidents`, or retract the incident a `Cancelled`
status names. Every EIDO is read before any is applied, so a notification with one bad
EIDO changes nothing."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import put_row
from shared.errors import Conflict
from shared.ids import incident_id_for
from shared.service import ServiceRuntime

from . import eido, intake
from .store import EidoIdentifierRow, EidoSettingsRow, IncidentRow


class EidoStatus(enum.StrEnum):
    """An EIDO's outcome: a report's, or `retracted` when a `Cancelled` status retracted
    the incident (a cancelled incident Peerline never kept is `ignored`)."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    UPDATED = "updated"
    IGNORED = "ignored"
    RETRACTED = "retracted"


@dataclass(frozen=True)
class Outcome:
    incident_id: uuid.UUID
    status: EidoStatus


async def report(
    runtime: ServiceRuntime, writer: intake.IntakeWriter, agency_id: str, body: bytes
) -> list[Outcome]:
    """Apply the EIDOs of `body` for `agency_id`; raises `eido.Invalid` (and the refusals
    of `eido.parse` and `eido.read`) before anything is applied."""
    documents = eido.parse(body)
    async with runtime.readers() as session:
        settings = await _settings(session, agency_id)
        overrides = await intake.agency_overrides(session, agency_id)
    readings = [eido.read(doc, at, settings, overrides) for at, doc in documents]
    return [await _apply(runtime, writer, agency_id, r) for r in readings]


async def _apply(
    runtime: ServiceRuntime, writer: intake.IntakeWriter, agency_id: str, reading: eido.Reading
) -> Outcome:
    incident_id = incident_id_for(agency_id, reading.external_id)
    if reading.cancelled is not None:
        async with runtime.sessions() as session:
            row = await session.get(IncidentRow, str(incident_id))
        if row is None:
            return Outcome(incident_id, EidoStatus.IGNORED)
        retracted = await intake.retract(runtime, row, reading.cancelled)
        return Outcome(incident_id, EidoStatus.RETRACTED if retracted else EidoStatus.DUPLICATE)
    if reading.report is None:
        return Outcome(incident_id, EidoStatus.IGNORED)
    result = await writer.submit(agency_id, reading.report)
    return Outcome(result.incident_id, EidoStatus(result.status.value))


async def settings(runtime: ServiceRuntime, agency_id: str) -> eido.EidoSettings:
    """How the agency's EIDOs are read: as set, or the defaults."""
    async with runtime.readers() as session:
        return await _settings(session, agency_id)


async def _settings(session: AsyncSession, agency_id: str) -> eido.EidoSettings:
    row = await session.get(EidoSettingsRow, agency_id)
    if row is None:
        # The default, the agency's own id, unless another agency holds it (decision 63).
        own = agency_id.lower()
        holder = await session.scalar(
            select(EidoIdentifierRow.agency_id).where(EidoIdentifierRow.identifier == own)
        )
        mine = frozenset() if holder not in (None, agency_id) else frozenset({own})
        return eido.EidoSettings(agency_identifiers=mine)
    return eido.EidoSettings(
        agency_identifiers=frozenset(row.agency_identifiers),
        dispatchers=row.dispatchers,
        personnel_id=eido.PersonnelIdFrom(row.personnel_id),
    )


async def set_settings(
    runtime: ServiceRuntime, agency_id: str, wanted: eido.EidoSettings
) -> eido.EidoSettings:
    """Store how the agency's EIDOs are read; identifiers compare in lower case. An
    identifier belongs to one agency: one another agency holds, or another agency's own
    id, is refused (`Conflict`) and nothing changes."""
    stored = eido.EidoSettings(
        agency_identifiers=frozenset(i.lower() for i in wanted.agency_identifiers),
        dispatchers=wanted.dispatchers,
        personnel_id=wanted.personnel_id,
    )
    values = {
        "agency_identifiers": sorted(stored.agency_identifiers),
        "dispatchers": stored.dispatchers,
        "personnel_id": stored.personnel_id.value,
    }
    async with runtime.sessions() as session:
        await _refuse_others(session, agency_id, stored.agency_identifiers)
        await session.execute(
            delete(EidoIdentifierRow).where(EidoIdentifierRow.agency_id == agency_id)
        )
        session.add_all(
            EidoIdentifierRow(identifier=i, agency_id=agency_id) for i in stored.agency_identifiers
        )
        await put_row(session, EidoSettingsRow, {"agency_id": agency_id}, values)
        try:
            await session.commit()
        except IntegrityError:  # another agency claimed one at the same moment
            raise Conflict(CLAIMED, field="agency_identifiers") from None
    return stored


CLAIMED = "an identifier belongs to another agency"


async def _refuse_others(session: AsyncSession, agency_id: str, wanted: frozenset[str]) -> None:
    held = await session.scalar(
        select(EidoIdentifierRow.identifier).where(
            EidoIdentifierRow.identifier.in_(wanted), EidoIdentifierRow.agency_id != agency_id
        )
    )
    others = [
        select(IncidentRow.agency_id).where(func.lower(IncidentRow.agency_id).in_(wanted)),
        select(EidoSettingsRow.agency_id).where(func.lower(EidoSettingsRow.agency_id).in_(wanted)),
    ]
    known = {a for query in others for a in await session.scalars(query.distinct())}
    if held is not None or known - {agency_id}:
        raise Conflict(CLAIMED, field="agency_identifiers")
