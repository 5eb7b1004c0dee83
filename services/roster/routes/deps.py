"""What the roster's routes share: the callers they admit, the objects they are
provided, the agency wall, the problems they document.

Every record belongs to one agency. A use case finds it by its id and checks the owner
(`shared.auth.ensure_agency`), or, where the record is keyed by the caller's agency
(officers, preferences, settings), the route takes an optional `agency_id` (body or
query) that must be the token's (`own_agency`). So one agency's token gets 403 on
another agency's records on every route.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from shared.auth import Principal, Role, ensure_agency, require_role
from shared.ids import AgencyId
from shared.routes import Provided, problems

from ..personal import Sealer

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


def own_agency(caller: Principal, agency_id: str | None) -> str:
    """The caller's agency, after checking an agency the request names is the same."""
    if agency_id is not None:
        ensure_agency(caller, agency_id)
    return caller.agency
