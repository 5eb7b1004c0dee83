"""The peer directory an officer browses: the peers they may reach out to themself.

Browsing is never recorded per person (docs/product.md, what is never recorded): like the resource
directory, this route writes no audit row and logs nothing about the caller, so an
officer looking for someone to talk to leaves no trace. It shows what a peer supporter
makes known to colleagues by serving: name, gender, rank, languages, specialties,
whether they are on call or reachable now, and a phone number for one tap.

Who is listed, by the rules matching uses (`domain`): active supporters, not removed,
certified and trained in every area their agency and the caller's require (as matching
requires them for the incident's day, here today); of the caller's agency, and from
the regional pool where both sides allow it (`domain.in_regional_pool`: the supporter's
agency shares with the region and the supporter accepts cross-agency work;
`domain.draws_on_region`: the caller's agency uses the pool, or the caller asks for
peers outside their agency, as an officer's own preference opens it for matching).

The region is read from the process's `PeerPool` (one read of the directories'
revision; a reload when it moved), and the sealed details are opened only for the
bands of the order that reach the answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import groupby
from typing import Annotated, NamedTuple

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shared.auth import Principal, Role, require_role
from shared.events import SupporterId
from shared.ids import AgencyId
from shared.routes import Provided, Runtime
from shared.vocab import Category

from ..domain import (
    Supporter,
    available_at,
    draws_on_region,
    in_regional_pool,
    on_call_at,
    qualified_until,
    rank_rung,
)
from ..fields import Code, Label, Language
from ..peers import Peer, PeerPool, Region
from ..personal import Sealer
from .deps import PROBLEMS, AgencyQuery, Seals, own_agency

router = APIRouter(prefix="/v1", tags=["directory"])

Browser = Annotated[
    Principal, Depends(require_role(Role.OFFICER, Role.SUPPORTER, Role.COORDINATOR))
]
MAX_ENTRIES = 2_000


Pool = Provided[PeerPool]


class DirectoryEntry(BaseModel):
    """A peer as colleagues find them: no e-mail, no unit, no availability details."""

    supporter_id: SupporterId
    agency_id: AgencyId
    display_name: str
    gender: str | None
    rank: str | None
    languages: list[str]
    specialties: list[Category]
    on_call_now: bool = Field(description="In one of their on-call periods, not on leave.")
    available_now: bool = Field(
        description="Reachable now: in a weekly window or on call (or with no stated limits), "
        "not on leave."
    )
    phone: str | None = Field(description="For a one-tap call or text; null if none.")


class _Wanted(NamedTuple):
    """The caller's filters, folded as matching folds what it compares."""

    gender: str | None
    rank: str | None
    language: str | None
    specialty: Category | None
    on_call_now: bool

    def admits(self, supporter: Supporter) -> bool:
        """Everything but being on call, which is worked out only for those admitted."""
        return (
            (self.gender is None or (supporter.gender or "").casefold() == self.gender)
            and (self.rank is None or _same_rank(self.rank, supporter.rank))
            and (
                self.language is None
                or self.language in {language.casefold() for language in supporter.languages}
            )
            and (self.specialty is None or self.specialty in supporter.specialties)
        )


class _Found(NamedTuple):
    band: tuple[bool, bool]  # (not on call, not available): smaller comes first
    peer: Peer


def _same_rank(wanted: str, rank: str | None) -> bool:
    """Ranks on one rung of the ladder are one rank (`Deputy` and `Officer`), whatever
    the spelling; a rank off the ladder is matched by its name, ignoring case."""
    rung = rank_rung(wanted)
    if rung is not None:
        return rank_rung(rank) == rung
    return rank is not None and rank.casefold() == wanted.casefold()


@router.get(
    "/directory",
    response_model=list[DirectoryEntry],
    responses=PROBLEMS,
    summary="The peer directory: certified supporters of the agency and of the regional pool, "
    "on call first (never recorded: no audit, no log)",
)
async def directory(
    caller: Browser,
    rt: Runtime,
    sealer: Seals,
    pool: Pool,
    agency_id: AgencyQuery = None,
    gender: Annotated[Code | None, Query(description="A gender code.")] = None,
    rank: Annotated[Label | None, Query(description="Peers of this rank (its rung).")] = None,
    language: Annotated[Language | None, Query(description="A language tag.")] = None,
    specialty: Annotated[
        Category | None, Query(description="Experience with this category.")
    ] = None,
    outside_agency: Annotated[
        bool, Query(description="True: only other agencies' peers (the regional pool).")
    ] = False,
    on_call_now: Annotated[bool, Query(description="True: only peers on call now.")] = False,
    limit: Annotated[int, Query(ge=1, le=MAX_ENTRIES)] = 500,
) -> list[DirectoryEntry]:
    agency = own_agency(caller, agency_id)
    async with rt.readers() as session:
        region = await pool.region(session)
    wanted = _Wanted(gender, rank, language, specialty, on_call_now)
    now = datetime.now(UTC)
    found = []
    for peer in _listed(region, agency, outside_agency, now.date()):
        if not wanted.admits(peer.supporter):
            continue
        availability = peer.supporter.availability
        on_call = on_call_at(availability, now)
        if on_call_now and not on_call:
            continue
        available = on_call or available_at(availability, now)
        found.append(_Found((not on_call, not available), peer))
    return _ordered(found, sealer, limit)


def _listed(region: Region, agency: str, outside_agency: bool, today: date):
    """The peers the caller's agency may browse today: its own (unless only outside
    peers are asked for), and the regional pool where both sides allow it; each
    certified and trained in every area their agency and the caller's require."""
    own = region.settings_of(agency)
    agencies = [] if outside_agency else [agency]
    if draws_on_region(own, outside_agency):
        agencies += [a for a, s in region.settings.items() if a != agency and s.share_with_region]
    for agency_id in agencies:
        theirs = region.settings_of(agency_id)
        required = own.required_training | theirs.required_training
        for peer in region.peers.get(agency_id, ()):
            supporter = peer.supporter
            if agency_id != agency and not in_regional_pool(supporter, theirs):
                continue
            if (qualified_until(supporter, required) or date.min) >= today:
                yield peer


def _ordered(found: list[_Found], sealer: Sealer, limit: int) -> list[DirectoryEntry]:
    """On call now first, then reachable now, then the rest, each band by name. Names
    are sealed, so a band is opened only if the answer reaches it."""
    entries: list[DirectoryEntry] = []
    for _, band in groupby(sorted(found, key=lambda f: f.band), key=lambda f: f.band):
        opened = sorted(
            (_entry(f, sealer) for f in band),
            key=lambda e: (e.display_name.casefold(), e.supporter_id),
        )
        entries += opened[: limit - len(entries)]
        if len(entries) >= limit:
            break
    return entries


def _entry(found: _Found, sealer: Sealer) -> DirectoryEntry:
    supporter = found.peer.supporter
    personal = sealer.open(supporter.supporter_id, found.peer.sealed)
    on_call, available = (not flag for flag in found.band)
    return DirectoryEntry(
        supporter_id=supporter.supporter_id,
        agency_id=supporter.agency_id,
        display_name=personal.display_name,
        gender=supporter.gender,
        rank=supporter.rank,
        languages=sorted(supporter.languages),
        specialties=sorted(supporter.specialties),
        on_call_now=on_call,
        available_now=available,
        phone=personal.contact.phone,
    )
