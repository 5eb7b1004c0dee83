"""Anonymous feedback on the program, with single-use codes linked to nothing.

A coordinator issues a batch of codes to hand out on cards or in messages. Each code is
kept only as a hash with its agency (`domain.code_hash`): no batch, time or issuer, so
a rating can be tied neither to a person nor to the moment its code was handed out. The
answer to the issuing request is the only place the codes exist in clear.

A code is spent by deleting its row, so of two racing submissions only one counts, and
a spent code cannot be told from one never issued.
Nothing about a submission is audited or logged, and the event starts a trace of its
own, so not even the caller's trace id follows the rating onto the bus.
"""

from __future__ import annotations

from opentelemetry.context import Context
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.errors import NotFound
from shared.events import FeedbackSubmitted

from .domain import code_hash, new_code
from .store import FeedbackCodeRow

UNUSABLE = "This feedback code is not one that can be used."


def issue_codes(session: AsyncSession, agency_id: str, count: int) -> list[str]:
    """`count` new codes for the agency, in clear; only their hashes are stored."""
    codes = [new_code() for _ in range(count)]
    session.add_all(
        FeedbackCodeRow(code_hash=code_hash(code), agency_id=agency_id) for code in codes
    )
    return codes


async def submit(
    session: AsyncSession, code: str, rating: int, would_recommend: bool, *, source: str
) -> None:
    """Spend the code and stage `FeedbackSubmitted` for its agency. A spent code and one
    never issued are refused alike, so a list of who got which code tells its keeper
    nothing about who rated."""
    agency_id = await session.scalar(
        delete(FeedbackCodeRow)
        .where(FeedbackCodeRow.code_hash == code_hash(code))
        .returning(FeedbackCodeRow.agency_id)
    )
    if agency_id is None:
        raise NotFound(UNUSABLE)
    outbox.add(
        session,
        FeedbackSubmitted(agency_id=agency_id, rating=rating, would_recommend=would_recommend),
        source=source,
        trace=Context(),
    )
