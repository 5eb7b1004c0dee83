"""Confidentiality exceptions (rule 9; see `exceptions`). Coordinators see their
agency's exceptions, and each one they see is audited as read.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shared import audit
from shared.auth import Role
from shared.routes import Runtime
from shared.vocab import ExceptionReason

from .. import exceptions
from ..exceptions import OBJECT_TYPE
from ..store import ExceptionRow
from .deps import PROBLEMS, Coordinator, SupporterOrCoordinator

router = APIRouter(prefix="/v1", tags=["exceptions"])


class ExceptionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ExceptionReason
    occurred_on: date = Field(description="The day it happened; not in the future.")
    assignment_id: uuid.UUID | None = Field(
        default=None,
        description="The assignment it happened in: a supporter's own, or one of a "
        "coordinator's agency.",
    )


class ExceptionRecorded(BaseModel):
    exception_id: uuid.UUID


class ExceptionView(BaseModel):
    exception_id: uuid.UUID
    reason: ExceptionReason
    occurred_on: date
    recorded_at: datetime
    recorded_by_role: Role
    assignment_id: uuid.UUID | None


@router.post(
    "/exceptions",
    status_code=201,
    response_model=ExceptionRecorded,
    responses=PROBLEMS,
    summary="Record a confidentiality exception as a reason code and a day (audited; "
    "publishes ConfidentialityExceptionRecorded)",
)
async def record_exception(
    body: ExceptionBody, caller: SupporterOrCoordinator, rt: Runtime
) -> ExceptionRecorded:
    async with rt.sessions() as session:
        exception_id = await exceptions.record(
            session, caller, body.reason, body.occurred_on, body.assignment_id, source=rt.source
        )
        await session.commit()
    return ExceptionRecorded(exception_id=exception_id)


@router.get(
    "/exceptions",
    response_model=list[ExceptionView],
    responses=PROBLEMS,
    summary="The agency's confidentiality exceptions, latest first (each read is audited)",
)
async def list_exceptions(caller: Coordinator, rt: Runtime) -> list[ExceptionView]:
    query = (
        select(ExceptionRow)
        .where(ExceptionRow.agency_id == caller.agency)
        .order_by(ExceptionRow.occurred_on.desc(), ExceptionRow.recorded_at.desc())
    )
    async with rt.sessions() as session:
        rows = (await session.scalars(query)).all()
        for row in rows:
            audit.record_read(session, caller, OBJECT_TYPE, row.exception_id)
        await session.commit()
    return [
        ExceptionView(
            exception_id=row.exception_id,
            reason=row.reason,
            occurred_on=row.occurred_on,
            recorded_at=row.recorded_at,
            recorded_by_role=row.recorded_by_role,
            assignment_id=row.assignment_id,
        )
        for row in rows
    ]
