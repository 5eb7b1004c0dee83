"""Officers ask for a peer (docs/requests.md): the roster's use cases behind the portal's
"Ask for a peer".

A request records what the officer asked for this time (how to be reached, and
optionally a gender, a language, someone outside their agency) and nothing else: no
reason, no text. It is matched at once by the same rules as an incident's officer, with
the request's wishes in place of the stored preferences, among supporters reachable
within the hour, and the best one gets it with a short deadline to acknowledge
(`moving` takes over if they do not). Nobody free: it goes straight to the
coordinators, who are told that a request is waiting and never who made it.

On the bus, `SupportRequested` and `SupportRequestResolved` carry the request's id and
codes only. The `PeerAssigned` of a request names the officer to its supporter, as any
assignment does; its incident_id is the request's id.
"""

from __future__ import annotations

import uuid

from opentelemetry.context import Context
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.auth import Principal
from shared.errors import Conflict, NotAllowed, NotFound
from shared.events import SupportRequested, SupportRequestResolved
from shared.ids import derived_event_id
from shared.vocab import Reach, RequestOutcome

from . import deadlines
from .assigning import Assigner, Case
from .assignment_store import MatchRow, Outcome, RequestRow, RequestState
from .domain import REQUEST_WINDOW
from .matching import Incident, Unfilled
from .moving import request_preferences

OPEN = (RequestState.SENT.value, RequestState.ESCALATED.value)


async def ask(
    assigner: Assigner,
    session: AsyncSession,
    caller: Principal,
    *,
    reach: Reach,
    preferred_gender: str | None,
    language: str | None,
    outside_agency: bool,
) -> RequestRow:
    """The officer's request, matched at once; one open request per officer."""
    pending = await session.scalar(
        select(RequestRow.request_id).where(
            RequestRow.agency_id == caller.agency,
            RequestRow.personnel_id == caller.sub,
            RequestRow.state.in_(OPEN),
        )
    )
    if pending is not None:
        raise Conflict("You already have a request waiting.", request_id=pending)
    now = assigner.clock()
    request = RequestRow(
        request_id=str(uuid.uuid4()),
        agency_id=caller.agency,
        personnel_id=caller.sub,
        reach=reach.value,
        preferred_gender=preferred_gender,
        language=language,
        outside_agency=outside_agency,
        state=RequestState.SENT.value,
        requested_at=now,
    )
    session.add(request)
    trace = Context()
    made = SupportRequested(
        agency_id=caller.agency,
        request_id=request.request_id,
        reach=reach,
        outside_agency=outside_agency,
    )
    await outbox.add_all(session, [(made, trace)], source=assigner.source)
    case = Case(uuid.UUID(request.request_id), caller.agency, None, now, for_request=True)
    incident = Incident(case.incident_id, caller.agency, None, now, frozenset({caller.sub}))
    async with assigner.matching(session) as index:
        while True:
            result = index.assign_again(
                incident,
                caller.sub,
                now,
                excluded=frozenset(),
                asked=request_preferences(request),
                within=REQUEST_WINDOW,
            )
            if await assigner.record(session, case, result, now, trace):
                break
    if isinstance(result, Unfilled):
        request.state = RequestState.ESCALATED.value
    return request


async def cancel(
    assigner: Assigner, session: AsyncSession, caller: Principal, request_id: uuid.UUID
) -> RequestRow:
    """The officer withdraws their request: its assignment is released (the supporter's
    slot given back, the deadline cancelled) and check-ins close its offer."""
    request = await _own(session, caller, request_id)
    if request.state not in OPEN:
        raise Conflict("This request has already been taken or cancelled.", field="request_id")
    now = assigner.clock()
    changed = await session.execute(
        update(RequestRow)
        .where(RequestRow.request_id == request.request_id, RequestRow.state.in_(OPEN))
        .values(state=RequestState.CANCELLED.value, resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:
        raise Conflict("This request has already been taken or cancelled.", field="request_id")
    released = (
        await session.execute(
            update(MatchRow)
            .where(
                MatchRow.incident_id == request.request_id,
                MatchRow.outcome.in_((Outcome.ASSIGNED.value, Outcome.UNFILLED.value)),
            )
            .values(outcome=Outcome.RELEASED.value, ended_at=now)
            .returning(MatchRow.supporter_id, MatchRow.assignment_id, MatchRow.moves)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if released is not None and released.supporter_id is not None:
        await assigner.give_back(session, released.supporter_id)
        await outbox.add_messages(
            session,
            [deadlines.cancelling(request.agency_id, released.assignment_id, released.moves)],
        )
    resolved = SupportRequestResolved(
        event_id=derived_event_id("request-resolved", request.request_id),
        agency_id=request.agency_id,
        request_id=request.request_id,
        outcome=RequestOutcome.CANCELLED,
    )
    await outbox.add_all(session, [(resolved, None)], source=assigner.source)
    await session.refresh(request)
    return request


async def mine(session: AsyncSession, caller: Principal, limit: int = 20) -> list[RequestRow]:
    """The officer's own requests, newest first."""
    rows = await session.scalars(
        select(RequestRow)
        .where(RequestRow.agency_id == caller.agency, RequestRow.personnel_id == caller.sub)
        .order_by(RequestRow.requested_at.desc(), RequestRow.request_id)
        .limit(limit)
    )
    return list(rows)


async def taken_by(session: AsyncSession, requests: list[RequestRow]) -> dict[str, MatchRow]:
    """The match of each taken request (who took it, and by when they will reach them)."""
    taken = [r.request_id for r in requests if r.state == RequestState.TAKEN.value]
    if not taken:
        return {}
    rows = await session.scalars(select(MatchRow).where(MatchRow.incident_id.in_(taken)))
    return {row.incident_id: row for row in rows}


async def _own(session: AsyncSession, caller: Principal, request_id: uuid.UUID) -> RequestRow:
    request = await session.get(RequestRow, str(request_id))
    if request is None:
        raise NotFound("You have no request with this id.")
    if request.agency_id != caller.agency or request.personnel_id != caller.sub:
        raise NotAllowed("Only the officer who asked may.")
    return request
