"""What the roster's routes share: the runtime, the callers they admit, the agency wall.

Every record belongs to one agency. A route finds it by its id and checks the owner
with `ensure_agency`, or, where the record is keyed by the caller's agency (officers,
preferences, settings), takes an optional `agency_id` (body or query) that must be the
token's. So one agency's token gets 403 on another agency's records on every route.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, ensure_agency, require_role
from shared.ids import AgencyId
from shared.problems import Problem
from shared.routes import Provided, problems

from .personal import Sealer
from .store import SupporterRow

PROBLEMS = problems(
    s403="Wrong role, or another agency's records",
    s409="The record conflicts with another one",
)


Seals = Provided[Sealer]
Coordinator = Annotated[Principal, Depends(require_role(Role.COORDINATOR))]
AgencyQuery = Annotated[
    AgencyId | None,
    Query(description="Optional; when given it must be the token's agency."),
]
AGENCY_FIELD = "Optional; when given it must be the token's agency."


def own_agency(caller: Principal, agency_id: str | None) -> str:
    """The caller's agency, after checking an agency the request names is the same."""
    if agency_id is not None:
        ensure_agency(caller, agency_id)
    return caller.agency


async def live_supporter(
    session: AsyncSession, caller: Principal, supporter_id: str
) -> SupporterRow:
    """The supporter, if on the roster and of the caller's agency (404 / 403 otherwise)."""
    row = await session.get(SupporterRow, supporter_id)
    if row is None:
        raise Problem(404, "Not Found", "No supporter has this id.")
    ensure_agency(caller, row.agency_id)
    if row.removed_at is not None:
        raise Problem(404, "Not Found", "This supporter was removed from the roster.")
    return row
