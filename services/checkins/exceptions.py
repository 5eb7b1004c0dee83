"""Recording a confidentiality exception (rule 9): that confidentiality was set aside,
kept as a reason code and a day, never what was said or why in words.

A supporter records one about their own assignment, a coordinator about one of the
agency's; either may name no assignment. The exception belongs to the agency of the
assignment's officer (like its contacts), or else to the recorder's. Who recorded it is
in the audit log, not in the record; the event carries only the code and the day, so
metrics count exceptions without learning whose they were.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit, outbox
from shared.errors import NotFound
from shared.events import ConfidentialityExceptionRecorded
from shared.tokens import Principal
from shared.vocab import ExceptionReason

from .domain import ensure_may_name, ensure_past
from .store import AssignmentRow, ExceptionRow

OBJECT_TYPE = "confidentiality_exception"


async def record(
    session: AsyncSession,
    caller: Principal,
    reason: ExceptionReason,
    occurred_on: date,
    assignment_id: uuid.UUID | None,
    *,
    source: str,
) -> str:
    """Store the exception, audit who recorded it, stage its event; its id."""
    now = datetime.now(UTC)
    ensure_past(occurred_on, now)
    agency_id = caller.agency
    if assignment_id is not None:
        assignment = await session.get(AssignmentRow, str(assignment_id))
        if assignment is None:
            raise NotFound("No assignment has this id.")
        ensure_may_name(caller, assignment)
        agency_id = assignment.agency_id
    row = ExceptionRow(
        exception_id=str(uuid.uuid4()),
        agency_id=agency_id,
        reason=reason,
        occurred_on=occurred_on,
        recorded_at=now,
        recorded_by_role=caller.role.value,
        assignment_id=str(assignment_id) if assignment_id else None,
    )
    session.add(row)
    audit.record(session, caller, "record", OBJECT_TYPE, row.exception_id)
    outbox.add(
        session,
        ConfidentialityExceptionRecorded(
            agency_id=agency_id,
            exception_id=row.exception_id,
            reason=reason,
            occurred_on=occurred_on,
        ),
        source=source,
    )
    return row.exception_id
