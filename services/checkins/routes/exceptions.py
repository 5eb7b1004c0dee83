"""Confidentiality exceptions (rule 9): that confidentiality was set aside, kept
as a reason code and a day, never what was said or why in words.

A supporter records one about their own assignment, a coordinator about one of the
agency's; either may name no assignment. The exception belongs to the agency of the
assignment's officer (like its contacts), or else to the recorder's. Who recorded it is
in the audit log, not in the record; the event carries only the code and the day, so
metrics count exceptions without learning whose they were. Coordinators see their
agency's exceptions, and each one they see is audited as read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shared import audit, outbox
from shared.auth import Principal, Role
from shared.events import ConfidentialityExceptionRecorded
from shared.problems import Problem
from shared.routes import Runtime, invalid
from shared.vocab import ExceptionReason

from ..http import PROBLEMS, Coordinator, SupporterOrCoordinator
from ..store import AssignmentRow, ExceptionRow

router = APIRouter(prefix="/v1", tags=["exceptions"])

OBJECT_TYPE = "confidentiality_exception"
# The date is the recorder's local one: today somewhere on Earth is at most 14 hours
# ahead of UTC, so a day later than that is in the future everywhere.
AHEAD_OF_UTC = timedelta(hours=14)


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
    now = datetime.now(UTC)
    if body.occurred_on > (now + AHEAD_OF_UTC).date():
        raise invalid("occurred_on", "may not be in the future")
    async with rt.sessions() as session:
        agency_id = caller.agency
        if body.assignment_id is not None:
            assignment = await session.get(AssignmentRow, str(body.assignment_id))
            if assignment is None:
                raise Problem(404, "Not Found", "No assignment has this id.")
            _ensure_may_name(caller, assignment)
            agency_id = assignment.agency_id
        row = ExceptionRow(
            exception_id=str(uuid.uuid4()),
            agency_id=agency_id,
            reason=body.reason,
            occurred_on=body.occurred_on,
            recorded_at=now,
            recorded_by_role=caller.role.value,
            assignment_id=str(body.assignment_id) if body.assignment_id else None,
        )
        session.add(row)
        audit.record(session, caller, "record", OBJECT_TYPE, row.exception_id)
        outbox.add(
            session,
            ConfidentialityExceptionRecorded(
                agency_id=agency_id,
                exception_id=row.exception_id,
                reason=body.reason,
                occurred_on=body.occurred_on,
            ),
            source=rt.source,
        )
        await session.commit()
    return ExceptionRecorded(exception_id=row.exception_id)


def _ensure_may_name(caller: Principal, assignment: AssignmentRow) -> None:
    """A supporter may name only an assignment of theirs; a coordinator, only one whose
    officer is of their agency."""
    if caller.role is Role.SUPPORTER:
        if (assignment.supporter_id, assignment.supporter_agency_id) != (caller.sub, caller.agency):
            raise Problem(403, "Forbidden", "This assignment is another supporter's.")
    elif assignment.agency_id != caller.agency:
        raise Problem(403, "Forbidden", "This assignment is another agency's.")


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
