"""Server-side sessions: a random id in an HttpOnly cookie, the rest in the portal's
database, so replicas share them and signing out ends them everywhere.

A session exists from the first visit to the sign-in page (it carries that form's
anti-forgery token and a sign-in under way with the identity provider) and becomes a
person's at sign-in, under a new id, so an id planted before sign-in is worth nothing
after it. It ends on sign-out or after `idle_minutes` without a request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker

from shared.tokens import Role

from .domain import Person, idle_expired
from .store import SessionRow

COOKIE = "peerline_session"
# A request touches its session's `last_seen_at` at most this often: reads stay reads.
TOUCH_EVERY = timedelta(seconds=30)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass
class Session:
    """One browser's session as a request sees it."""

    id_hash: str
    csrf: str
    person: Person | None
    pending: dict | None

    def csrf_ok(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf, token)


class SessionStore:
    def __init__(self, sessions: async_sessionmaker, *, idle_minutes: int) -> None:
        self._sessions = sessions
        self.idle_minutes = idle_minutes

    async def load(self, session_id: str | None) -> Session | None:
        """The live session of a cookie's id; None if unknown or idle too long (then
        it is deleted)."""
        if not session_id:
            return None
        now = datetime.now(UTC)
        async with self._sessions() as db:
            row = await db.get(SessionRow, _hash(session_id))
            if row is None:
                return None
            if idle_expired(row.last_seen_at, now, self.idle_minutes):
                await db.delete(row)
                await db.commit()
                return None
            if now - row.last_seen_at >= TOUCH_EVERY:
                row.last_seen_at = now
                await db.commit()
            return _session(row)

    async def start(self, *, pending: dict | None = None) -> tuple[str, Session]:
        """A new anonymous session (before sign-in): its cookie value and the session."""
        return await self._new(person=None, pending=pending)

    async def sign_in(self, previous: Session | None, person: Person) -> tuple[str, Session]:
        """The person's session, under a new id; the previous one ends."""
        if previous is not None:
            await self.end(previous)
        return await self._new(person=person, pending=None)

    async def set_pending(self, session: Session, pending: dict | None) -> None:
        async with self._sessions() as db:
            row = await db.get(SessionRow, session.id_hash)
            if row is not None:
                row.pending = pending
                await db.commit()
        session.pending = pending

    async def end(self, session: Session) -> None:
        async with self._sessions() as db:
            await db.execute(delete(SessionRow).where(SessionRow.id_hash == session.id_hash))
            await db.commit()

    async def purge_idle(self) -> int:
        """Delete every session idle past the limit; how many."""
        cutoff = datetime.now(UTC) - timedelta(minutes=self.idle_minutes)
        async with self._sessions() as db:
            result = await db.execute(delete(SessionRow).where(SessionRow.last_seen_at < cutoff))
            await db.commit()
            return result.rowcount or 0

    async def _new(self, *, person: Person | None, pending: dict | None) -> tuple[str, Session]:
        session_id = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        row = SessionRow(
            id_hash=_hash(session_id),
            csrf=secrets.token_urlsafe(32),
            agency_id=person.agency if person else None,
            role=person.role.value if person else None,
            subject=person.subject if person else None,
            display_name=person.name if person else None,
            pending=pending,
            created_at=now,
            last_seen_at=now,
        )
        async with self._sessions() as db:
            db.add(row)
            await db.commit()
        return session_id, _session(row)


def _session(row: SessionRow) -> Session:
    person = None
    if row.role is not None:
        person = Person(
            agency=row.agency_id, role=Role(row.role), subject=row.subject, name=row.display_name
        )
    return Session(id_hash=row.id_hash, csrf=row.csrf, person=person, pending=row.pending)
