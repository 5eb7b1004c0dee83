"""Officers as coordinators keep them, and officers' own preferences: put and find.

Officers are keyed by the caller's agency and their `personnel_id`, unique only within
the agency. Preferences belong to the officer: they set them themself (role `officer`,
`sub` their personnel_id; or role `supporter`, for the officer their supporter record
names, since supporters are officers too), or a coordinator of their agency does.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role
from shared.db import put_row
from shared.errors import Invalid, NotAllowed, NotFound
from shared.events import OfficerUpdated, PreferencesUpdated
from shared.ids import AgencyId, PersonnelId

from . import revision
from .fields import AGENCY_FIELD, Body, Code, Codes, Label, Languages, Name
from .personal import OfficerContact, OfficerPersonal, Sealer
from .revision import Written
from .store import OfficerRow, PreferencesRow, SupporterRow


class OfficerRecord(Body):
    agency_id: AgencyId | None = Field(default=None, description=AGENCY_FIELD)
    unit: Label | None = None
    rank: Label | None = None
    supervisor_id: PersonnelId | None = Field(
        default=None, description="The supervisor's personnel_id."
    )
    background: Codes = Field(
        default_factory=list,
        description="Background codes, as on supporter records: matching prefers a peer "
        "who shares one.",
    )
    display_name: Name | None = Field(
        default=None,
        description="The officer's name as a supporter would call them. Sealed at rest with "
        "contact; shown only to the supporter assigned to the officer, never in a view of "
        "the officer.",
    )
    contact: OfficerContact = Field(
        default_factory=OfficerContact,
        description="How the supporter assigned to the officer reaches them. Sealed at rest; "
        "a PUT replaces it (left out: none on file).",
    )

    def personal(self) -> OfficerPersonal:
        return OfficerPersonal(display_name=self.display_name, contact=self.contact)


class PreferencesRecord(Body):
    agency_id: AgencyId | None = Field(default=None, description=AGENCY_FIELD)
    preferred_gender: Code | None = None
    languages: Languages = Field(default_factory=list)
    outside_agency: bool = Field(default=False, description="A peer from another agency.")
    opted_out: bool = Field(default=False, description="No offers of support at all.")


PREFERENCES = {"preferred_gender", "languages", "outside_agency", "opted_out"}


def write_officer(
    session: AsyncSession,
    agency: str,
    personnel_id: str,
    record: OfficerRecord,
    sealer: Sealer,
    *,
    stored: OfficerRow | None,
) -> tuple[OfficerRow, Written]:
    """Put `record` as the agency's officer `personnel_id`, whose row is `stored` (None:
    a new officer; the caller reads it, so an import reads all of its rows at once). The
    one write behind `PUT /v1/officers/{personnel_id}` and the import. The supervisor
    need not be on the roster (yet), so officers can be put in any order. The record is
    whole: details left out are erased, as for supporters; the name and contact details
    are sealed. Nothing is written, and no event is given, when the record is what is
    stored."""
    if record.supervisor_id == personnel_id:
        raise Invalid("supervisor_id", "an officer is not their own supervisor")
    wanted = {
        "unit": record.unit,
        "rank": record.rank,
        "supervisor_id": record.supervisor_id,
        "background": sorted(record.background),
    }
    personal = record.personal()
    row = stored
    created = row is None
    if created:
        row = OfficerRow(agency_id=agency, personnel_id=personnel_id)
        session.add(row)
    elif all(getattr(row, name) == value for name, value in wanted.items()) and (
        sealer.open_officer(agency, personnel_id, row.personal) == personal
    ):
        return row, Written(created=False, event=None)
    for name, value in wanted.items():
        setattr(row, name, value)
    row.personal = None if personal.empty() else sealer.seal_officer(agency, personnel_id, personal)
    row.updated_at = datetime.now(UTC)
    return row, Written(created, OfficerUpdated(agency_id=agency, personnel_id=personnel_id))


async def put_officer(
    session: AsyncSession,
    agency: str,
    personnel_id: str,
    record: OfficerRecord,
    sealer: Sealer,
    *,
    source: str,
) -> tuple[OfficerRow, Written]:
    """`write_officer` for one officer, its event staged with a new revision."""
    stored = await session.get(OfficerRow, (agency, personnel_id))
    row, written = write_officer(session, agency, personnel_id, record, sealer, stored=stored)
    if written.event is not None:
        await revision.changed(session, written.event, source=source)
    return row, written


async def officer(session: AsyncSession, agency: str, personnel_id: str) -> OfficerRow:
    """The agency's officer `personnel_id`."""
    row = await session.get(OfficerRow, (agency, personnel_id))
    if row is None:
        raise NotFound("No officer of the agency has this personnel_id.")
    return row


async def ensure_acts_for(session: AsyncSession, caller: Principal, personnel_id: str) -> None:
    """Refused unless the caller is a coordinator (of the agency: the key is the
    caller's agency) or the officer themself."""
    if caller.role is Role.COORDINATOR:
        return
    if caller.role is Role.OFFICER and caller.sub == personnel_id:
        return
    if caller.role is Role.SUPPORTER:
        supporter = await session.get(SupporterRow, caller.sub)
        if (
            supporter is not None
            and supporter.agency_id == caller.agency
            and supporter.removed_at is None
            and supporter.personnel_id == personnel_id
        ):
            return
    raise NotAllowed("Only the officer themself or a coordinator may do this.")


async def put_preferences(
    session: AsyncSession,
    caller: Principal,
    agency: str,
    personnel_id: str,
    record: PreferencesRecord,
    *,
    source: str,
) -> PreferencesRow:
    """Set the officer's preferences, staging `PreferencesUpdated` with a new revision
    when they change."""
    await ensure_acts_for(session, caller, personnel_id)
    key = {"agency_id": agency, "personnel_id": personnel_id}
    row, changed = await put_row(
        session, PreferencesRow, key, record.model_dump(include=PREFERENCES)
    )
    if changed:
        event = PreferencesUpdated(
            agency_id=agency, personnel_id=personnel_id, opted_out=record.opted_out
        )
        await revision.changed(session, event, source=source)
    return row
