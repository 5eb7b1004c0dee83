"""Audit of every read of identifiable data, and of acts such as a confidentiality
exception: who, what, when (rule 9).

The record names the actor and the object's id, never the data read or written.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Integer, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import KernelBase, UtcDateTime
from shared.tokens import Principal


class AuditRow(KernelBase):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(128))
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_agency: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(128))


def record(
    session: AsyncSession, principal: Principal, action: str, object_type: str, object_id: str
) -> None:
    """Log that `principal` did `action` to an object, in the caller's transaction: the
    record stands or falls with what it records."""
    session.add(
        AuditRow(
            at=datetime.now(UTC),
            actor=principal.sub,
            actor_role=principal.role.value,
            actor_agency=principal.agency,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
        )
    )


def record_read(
    session: AsyncSession, principal: Principal, object_type: str, object_id: str
) -> None:
    record(session, principal, "read", object_type, object_id)
