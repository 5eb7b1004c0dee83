"""What the check-ins routes share: the runtime, the care use cases, the callers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.auth import Principal, Role, require_role
from shared.routes import problems

from .care import Care

PROBLEMS = problems(
    s403="Wrong role, or another agency's or supporter's records",
    s409="The request conflicts with the record's state",
)


async def _care(request: Request) -> Care:
    return request.app.state.care


CareCases = Annotated[Care, Depends(_care)]
Supporter = Annotated[Principal, Depends(require_role(Role.SUPPORTER))]
Coordinator = Annotated[Principal, Depends(require_role(Role.COORDINATOR))]
SupporterOrCoordinator = Annotated[
    Principal, Depends(require_role(Role.SUPPORTER, Role.COORDINATOR))
]
