"""What the check-ins routes share: the runtime, the care use cases, the callers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, Role, require_role
from shared.pseudonyms import Pseudonyms
from shared.routes import Provided, problems

from ..care import Care

PROBLEMS = problems(
    s403="Wrong role, or another agency's or supporter's records",
    s409="The request conflicts with the record's state",
)


CareCases = Provided[Care]
Pseudonymise = Provided[Pseudonyms]
Supporter = Annotated[Principal, Depends(require_role(Role.SUPPORTER))]
Coordinator = Annotated[Principal, Depends(require_role(Role.COORDINATOR))]
SupporterOrCoordinator = Annotated[
    Principal, Depends(require_role(Role.SUPPORTER, Role.COORDINATOR))
]
