"""What the incidents routes share: the callers each admits (by role), the intake writer
the service provides, and the problems they document."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from shared.auth import Principal, Role, require_role
from shared.routes import Provided, problems

from ..intake import IntakeWriter

PROBLEMS = problems(s404="No such incident")

Ingest = Annotated[Principal, Depends(require_role(Role.INGEST))]
Coordinator = Annotated[Principal, Depends(require_role(Role.COORDINATOR))]
Retractor = Annotated[Principal, Depends(require_role(Role.INGEST, Role.COORDINATOR))]
Writer = Provided[IntakeWriter]
