"""The check-ins service's read model of the roster's officers: who exists, as
pseudonyms only.

A contact without a check-in names its officer by personnel id, and an invented id
would count as an officer supported in the program's figures. So such a contact must
name an officer the roster knows in the supporter's agency (an `OfficerUpdated` seen),
or one the service already cares for there (an assignment). Check-ins never call the
roster for it, and keeps no personnel id for it: only `officer_ref`, the keyed
pseudonym that is already unique per agency.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import Received
from shared.db import upsert_insert
from shared.events import OfficerUpdated
from shared.pseudonyms import Pseudonyms

from .store import AssignmentRow, KnownOfficerRow


class Officers:
    def __init__(self, pseudonyms: Pseudonyms) -> None:
        self._pseudonyms = pseudonyms

    async def updated(self, session: AsyncSession, items: list[Received[OfficerUpdated]]) -> None:
        insert = upsert_insert(session)
        for item in items:
            ref = self._pseudonyms.officer_ref(item.value.agency_id, item.value.personnel_id)
            await session.execute(
                insert(KnownOfficerRow).values(officer_ref=ref).on_conflict_do_nothing()
            )


async def is_known(
    session: AsyncSession, agency_id: str, personnel_id: str, officer_ref: str
) -> bool:
    """Whether the officer exists: the roster knows them, or an assignment names them."""
    if await session.get(KnownOfficerRow, officer_ref) is not None:
        return True
    cared_for = select(AssignmentRow.assignment_id).where(
        AssignmentRow.agency_id == agency_id, AssignmentRow.personnel_id == personnel_id
    )
    return await session.scalar(cared_for.limit(1)) is not None
