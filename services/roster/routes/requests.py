"""An officer's requests for a peer (docs/requests.md): asked, followed and withdrawn by
the officer alone. Nothing here names an officer to anyone else, and the list of a
caller's requests is their own."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Role, require_role
from shared.routes import Provided, Runtime
from shared.vocab import Reach

from .. import requests
from ..assigning import Assigner
from ..assignment_store import RequestRow
from ..fields import Body
from ..personal import Sealer
from ..store import SupporterRow
from .deps import PROBLEMS, AgencyQuery, Seals, own_agency

router = APIRouter(prefix="/v1", tags=["requests"])

Officer = Annotated[Principal, Depends(require_role(Role.OFFICER))]
Matching = Provided[Assigner]

Short = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[\w\- ]+$")]


class RequestBody(Body):
    """What the officer asks for this time; no reason and no text."""

    reach: Reach = Field(default=Reach.CALL, description="How the officer would be reached.")
    preferred_gender: Short | None = Field(default=None, description="A peer of this gender.")
    language: Short | None = Field(default=None, description="A peer who speaks this language.")
    outside_agency: bool = Field(default=False, description="A peer from another agency.")


class Peer(BaseModel):
    first_name: str | None = Field(description="Null when the roster has no name on file.")
    reach_by: datetime


class RequestView(BaseModel):
    request_id: uuid.UUID
    state: str = Field(description="sent, taken, escalated or cancelled")
    reach: Reach
    preferred_gender: str | None
    language: str | None
    outside_agency: bool
    requested_at: datetime
    resolved_at: datetime | None
    peer: Peer | None = Field(description="Who took it and by when they will reach you.")


RequestId = Annotated[uuid.UUID, Path(description="The request (POST /v1/requests)")]


@router.post(
    "/requests",
    response_model=RequestView,
    status_code=status.HTTP_201_CREATED,
    responses=PROBLEMS,
    summary="Ask for a peer (the officer; one open request at a time)",
)
async def ask(
    body: RequestBody,
    caller: Officer,
    rt: Runtime,
    assigner: Matching,
    sealer: Seals,
    agency_id: AgencyQuery = None,
) -> RequestView:
    own_agency(caller, agency_id)
    async with rt.sessions() as session:
        row = await requests.ask(
            assigner,
            session,
            caller,
            reach=body.reach,
            preferred_gender=body.preferred_gender,
            language=body.language,
            outside_agency=body.outside_agency,
        )
        await session.commit()
        return (await _views(session, [row], sealer))[0]


@router.get(
    "/requests",
    response_model=list[RequestView],
    responses=PROBLEMS,
    summary="The officer's own requests, newest first",
)
async def mine(
    caller: Officer, rt: Runtime, sealer: Seals, agency_id: AgencyQuery = None
) -> list[RequestView]:
    own_agency(caller, agency_id)
    async with rt.readers() as session:
        rows = await requests.mine(session, caller)
        return await _views(session, rows, sealer)


@router.post(
    "/requests/{request_id}/cancel",
    response_model=RequestView,
    responses=PROBLEMS,
    summary="Withdraw a request that nobody has taken yet",
)
async def cancel(
    request_id: RequestId, caller: Officer, rt: Runtime, assigner: Matching, sealer: Seals
) -> RequestView:
    async with rt.sessions() as session:
        row = await requests.cancel(assigner, session, caller, request_id)
        await session.commit()
        return (await _views(session, [row], sealer))[0]


async def _views(
    session: AsyncSession, rows: list[RequestRow], sealer: Sealer
) -> list[RequestView]:
    taken = await requests.taken_by(session, rows)
    views = []
    for row in rows:
        match = taken.get(row.request_id)
        peer = None
        if match is not None and match.reach_by is not None:
            peer = Peer(
                first_name=await _first_name(session, sealer, match.supporter_id),
                reach_by=match.reach_by,
            )
        views.append(
            RequestView(
                request_id=row.request_id,
                state=row.state,
                reach=row.reach,
                preferred_gender=row.preferred_gender,
                language=row.language,
                outside_agency=row.outside_agency,
                requested_at=row.requested_at,
                resolved_at=row.resolved_at,
                peer=peer,
            )
        )
    return views


async def _first_name(session: AsyncSession, sealer: Sealer, supporter_id: str | None):
    """The first word of the supporter's name: what an officer needs to know who calls."""
    if supporter_id is None:
        return None
    supporter = await session.get(SupporterRow, supporter_id)
    if supporter is None or supporter.personal is None:
        return None
    name = sealer.open(supporter_id, supporter.personal).display_name or ""
    return name.split()[0] if name.split() else None
