"""The region's peer supporters as the peer directory reads them, kept per process.

Browsing the directory must stay fast in a region of 10,000 supporters, and what it
reads changes only with the directories: every change of a supporter, of their training
or of an agency's settings raises the directories' revision (`revision`), which
matching's index already relies on. So each process keeps the active supporters (as
matching sees them, with their training, and their sealed details unopened) and every
agency's settings, and reloads them when the revision moves: a browse then reads one
number, and opens only the details it answers with.
"""

from __future__ import annotations

import asyncio
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from . import revision
from .domain import AgencySettings, Supporter
from .store import AgencySettingsRow, load_supporters


class Peer(NamedTuple):
    supporter: Supporter
    sealed: bytes  # the name and contact details, opened only for an answer


class Region(NamedTuple):
    """The active supporters by agency, and the agencies' stored settings."""

    peers: dict[str, list[Peer]]
    settings: dict[str, AgencySettings]

    def settings_of(self, agency_id: str) -> AgencySettings:
        return self.settings.get(agency_id) or AgencySettings(agency_id)


class PeerPool:
    """The region as of the directories' last revision this process has seen."""

    def __init__(self) -> None:
        self._region = Region({}, {})
        self._revision = -1
        self._lock = asyncio.Lock()  # one reload at a time; the others wait for it

    async def region(self, session: AsyncSession) -> Region:
        current = await revision.current(session)
        if current != self._revision:
            async with self._lock:
                if current != self._revision:
                    # Read after the revision: what is kept is never older than its label.
                    self._region = await _load(session)
                    self._revision = current
        return self._region


async def _load(session: AsyncSession) -> Region:
    peers: dict[str, list[Peer]] = {}
    for supporter, sealed in await load_supporters(session):
        if supporter.active and sealed is not None:
            peers.setdefault(supporter.agency_id, []).append(Peer(supporter, sealed))
    rows = await session.scalars(select(AgencySettingsRow))
    return Region(peers, {row.agency_id: row.settings() for row in rows})
