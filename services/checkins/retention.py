"""Purging identifiable care records once the care window has passed (rule 8).

A care episode is an assignment with its offers, contacts and referrals. Once its care
has ended, nothing of it is open (an anniversary offer still to come keeps it), and its
last activity is `care_retention_days` old (default 90), the whole episode is deleted.
So are contacts without an assignment (an officer's own call) once as old. What remains
carries no identity: the events metrics counted, the confidentiality exceptions (reason
and date; their link to the assignment is cut), and the audit log (who read which id).
What was heard of assignments' moves and of officers' requests (`assignment_moves`,
`officer_requests`) serves only as an assignment opens, and goes once as old.
The job runs periodically; each round deletes in small transactions, and replicas
running it together only delete the same rows twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, select, update

from shared.service import ServiceRuntime

from .domain import OPEN
from .store import (
    AssignmentRow,
    CheckInRow,
    ContactRow,
    ExceptionRow,
    MoveRow,
    ReferralRow,
    RequestRow,
)

log = logging.getLogger(__name__)

CHUNK = 500


async def purge(runtime: ServiceRuntime, now: datetime | None = None) -> int:
    """Delete every care record past retention at `now`; how many episodes and lone
    contacts went."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=runtime.settings.care_retention_days)
    purged = 0
    while True:
        async with runtime.sessions() as session, session.begin():
            still_open = exists().where(
                CheckInRow.assignment_id == AssignmentRow.assignment_id,
                CheckInRow.status.in_(OPEN),
            )
            ids = (
                await session.scalars(
                    select(AssignmentRow.assignment_id)
                    .where(
                        AssignmentRow.care_ended.is_(True),
                        AssignmentRow.last_activity_at < cutoff,
                        ~still_open,
                    )
                    .limit(CHUNK)
                )
            ).all()
            contacts = select(ContactRow.contact_id).where(
                ContactRow.assignment_id.in_(ids)
                | (ContactRow.assignment_id.is_(None) & (ContactRow.logged_at < cutoff))
            )
            lone = (
                await session.scalars(
                    select(ContactRow.contact_id)
                    .where(ContactRow.assignment_id.is_(None), ContactRow.logged_at < cutoff)
                    .limit(CHUNK)
                )
            ).all()
            if not ids and not lone:
                break
            await session.execute(delete(ReferralRow).where(ReferralRow.contact_id.in_(contacts)))
            await session.execute(
                delete(ContactRow).where(
                    ContactRow.assignment_id.in_(ids) | ContactRow.contact_id.in_(lone)
                )
            )
            await session.execute(delete(CheckInRow).where(CheckInRow.assignment_id.in_(ids)))
            await session.execute(
                update(ExceptionRow)
                .where(ExceptionRow.assignment_id.in_(ids))
                .values(assignment_id=None)
            )
            await session.execute(delete(AssignmentRow).where(AssignmentRow.assignment_id.in_(ids)))
            purged += len(ids) + len(lone)
    for model, key in ((MoveRow, MoveRow.assignment_id), (RequestRow, RequestRow.request_id)):
        while True:
            async with runtime.sessions() as session, session.begin():
                old = (
                    await session.scalars(select(key).where(model.heard_at < cutoff).limit(CHUNK))
                ).all()
                if not old:
                    break
                await session.execute(delete(model).where(key.in_(old)))
    if purged:
        log.info("purged %d care records past retention", purged)
    return purged
