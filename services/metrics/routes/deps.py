"""What the metrics routes share: the callers they admit, the problems they document,
and the release a request asks for, its query parsed in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, Query

from shared.auth import Principal, Role, require_role
from shared.ids import AgencyId
from shared.routes import problems

from ..domain import Granularity, Privacy, window_of
from ..releases import Asked

PROBLEMS = problems(
    s403="Not a leadership or regional token, or another agency's figures",
    s409="The privacy budget of a period in the window is spent",
)

Leader = Annotated[Principal, Depends(require_role(Role.LEADERSHIP, Role.REGIONAL))]

Start = Annotated[date | None, Query(alias="from", description="First day (inclusive)")]
End = Annotated[date | None, Query(alias="to", description="Last day (inclusive)")]


@dataclass(frozen=True)
class _Query:
    agency: str | None
    start: date | None
    end: date | None
    granularity: Granularity


async def _query(
    agency: AgencyId | None = None,
    start: Start = None,
    end: End = None,
    granularity: Granularity = Granularity.MONTH,
) -> _Query:
    return _Query(agency, start, end, granularity)


async def _privacy(privacy: Privacy = Privacy.SUPPRESSION) -> Privacy:
    return privacy


async def _suppression() -> Privacy:
    return Privacy.SUPPRESSION


def _asked(mode: Callable[..., Awaitable[Privacy]]):
    """The release asked for, its window checked only once every parameter is valid;
    `mode` is the `privacy` parameter, or suppression where a route has none."""

    async def asked(
        query: Annotated[_Query, Depends(_query)], privacy: Privacy = Depends(mode)
    ) -> Asked:
        today = datetime.now(UTC).date()
        window = window_of(query.start, query.end, query.granularity, today)
        return Asked(query.agency, window, privacy)

    return asked


Release = Annotated[Asked, Depends(_asked(_privacy))]
SuppressedRelease = Annotated[Asked, Depends(_asked(_suppression))]
