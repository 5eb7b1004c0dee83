"""The portal's one table: sessions of signed-in people, kept on the server.

The browser holds only a random session id; the table keeps its SHA-256, so a copy of
the database lets no one take over a session. A row says who is signed in and when they
were last seen, never what they looked at (officers' browsing is not recorded). Rows
end with sign-out or after the idle limit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import NAMING, UtcDateTime


class PortalBase(DeclarativeBase):
    """The portal's own tables: it shares no kernel table (no outbox, inbox or audit)."""

    metadata = MetaData(naming_convention=NAMING)


class SessionRow(PortalBase):
    __tablename__ = "portal_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    csrf: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[str | None] = mapped_column(String(32), default=None)
    role: Mapped[str | None] = mapped_column(String(32), default=None)
    subject: Mapped[str | None] = mapped_column(String(128), default=None)
    display_name: Mapped[str | None] = mapped_column(String(128), default=None)
    # A sign-in under way with the identity provider: state, nonce, PKCE verifier, and
    # the page to return to.
    pending: Mapped[dict | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
