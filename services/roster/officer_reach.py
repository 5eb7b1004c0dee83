"""How the supporter assigned to an officer reaches them: the last mile of care.

Only the assigned supporter learns which officer to reach, and how (rule 4).
The roster's own record of the assignment (`MatchRow`) decides: it must still be
`assigned` (not closed by the end of care, nor released by a retraction) and name the
caller as its supporter and the caller's agency as the supporter's. The officer may be
of another agency (the regional pool): this is the one read across the agency wall,
and only for the officer of the caller's own assignment.

A supporter cared for as an officer (care for the carers) is reached by their own
officer record's details or, with none on file, by the name and contact details of
their supporter record.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.errors import NotAllowed, NotFound

from .assignment_store import MatchRow, Outcome
from .personal import OfficerContact, OfficerPersonal, Sealer
from .store import OfficerRow, SupporterRow


def _assigned_to(match: MatchRow, caller: Principal) -> bool:
    return (
        match.outcome == Outcome.ASSIGNED.value
        and match.supporter_id == caller.sub
        and match.supporter_agency_id == caller.agency
    )


async def _details(session: AsyncSession, match: MatchRow, sealer: Sealer) -> OfficerPersonal:
    officer = await session.get(OfficerRow, (match.agency_id, match.personnel_id))
    personal = sealer.open_officer(
        match.agency_id, match.personnel_id, officer.personal if officer else None
    )
    if not personal.empty() or match.cares_for is None:
        return personal
    cared_for = await session.get(SupporterRow, match.cares_for)
    if cared_for is None or cared_for.personal is None:
        return personal
    theirs = sealer.open(cared_for.supporter_id, cared_for.personal)
    return OfficerPersonal(
        display_name=theirs.display_name,
        contact=OfficerContact(phone=theirs.contact.phone, email=theirs.contact.email),
    )


async def officer_to_reach(
    session: AsyncSession, caller: Principal, assignment_id: str, sealer: Sealer
) -> tuple[MatchRow, OfficerPersonal]:
    """The assignment, and its officer's opened name and contact details, for the
    supporter assigned while the care goes on."""
    match = await session.scalar(
        select(MatchRow).where(MatchRow.assignment_id == assignment_id).limit(1)
    )
    if match is None:
        raise NotFound("No assignment has this id.")
    if not _assigned_to(match, caller):
        raise NotAllowed("Only the supporter assigned, while the care goes on, may.")
    supporter = await session.get(SupporterRow, caller.sub)
    if supporter is None or supporter.removed_at is not None:
        raise NotAllowed("This supporter is no longer on the roster.")
    return match, await _details(session, match, sealer)
