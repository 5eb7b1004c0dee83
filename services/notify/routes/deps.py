"""What the notify routes share: the callers they admit (by role), the agency wall, and
the problems they document."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, Role, ensure_agency, require_role
from shared.routes import problems

PROBLEMS = problems(s403="Wrong role, or another agency's notifications")

OpsOrCoordinator = Annotated[Principal, Depends(require_role(Role.OPS, Role.COORDINATOR))]


def agency_seen(caller: Principal, agency: str | None) -> str | None:
    """The agency whose records `caller` sees (None: every agency's): a coordinator
    their own only, 403 for another; operators any."""
    if caller.role is Role.COORDINATOR:
        ensure_agency(caller, agency or caller.agency)
        return caller.agency
    return agency
