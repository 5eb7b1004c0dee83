"""Each agency's check-in policy, per category or as its default (coordinators).

Durations are ISO 8601 (`PT24H`, `P7D`) or seconds. A change applies to offers planned
after it: offers already scheduled keep their times.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from shared.db import put_row
from shared.routes import Runtime
from shared.vocab import Category

from ..domain import DEFAULT, Policy, default_policy
from ..policies import to_policy
from ..store import PolicyRow
from .deps import PROBLEMS, Coordinator

router = APIRouter(prefix="/v1", tags=["policies"])

PolicyKey = Annotated[
    Category | Literal["default"],
    Path(description="A category, or `default` for every category without its own."),
]
Positive = Annotated[timedelta, Field(gt=timedelta(0), le=timedelta(days=3660))]
# Zero lets a follow-up fall due as soon as it is planned; a month is already the
# default's whole care (+30 d): a longer gap would hold care back, not space it.
Gap = Annotated[timedelta, Field(ge=timedelta(0), le=timedelta(days=30))]


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_offer_after: Positive = Field(description="From the incident to the first offer.")
    window_closes_after: Positive = Field(description="From the incident to its window's close.")
    follow_ups: list[Positive] = Field(
        default_factory=list, max_length=10, description="Later offers, from the incident."
    )
    anniversary_after: Positive | None = Field(
        default=None, description="An anniversary offer, from the incident; null for none."
    )
    follow_up_min_gap: Gap = Field(
        default=Policy().follow_up_min_gap,
        description="A follow-up is due no sooner than this after the contact that closed "
        "the offer before it.",
    )

    @model_validator(mode="after")
    def _in_order(self) -> PolicyBody:
        if self.window_closes_after <= self.first_offer_after:
            raise ValueError("window_closes_after must be after first_offer_after")
        times = [self.first_offer_after, *self.follow_ups]
        if self.anniversary_after is not None:
            times.append(self.anniversary_after)
        if any(b <= a for a, b in itertools.pairwise(times)):
            raise ValueError("offers must come in order: first, follow-ups, anniversary")
        return self


class PolicyView(BaseModel):
    category: str
    first_offer_after: timedelta
    window_closes_after: timedelta
    follow_ups: list[timedelta]
    anniversary_after: timedelta | None
    follow_up_min_gap: timedelta
    updated_at: datetime | None = Field(description="Null: not set, the program's defaults.")


def _view(category: str, policy: Policy, updated_at: datetime | None) -> PolicyView:
    return PolicyView(
        category=category,
        first_offer_after=policy.first_offer_after,
        window_closes_after=policy.window_closes_after,
        follow_ups=list(policy.follow_ups),
        anniversary_after=policy.anniversary_after,
        follow_up_min_gap=policy.follow_up_min_gap,
        updated_at=updated_at,
    )


@router.put(
    "/policies/{category}",
    response_model=PolicyView,
    responses=PROBLEMS,
    summary="Set the agency's check-in policy for a category, or its default",
)
async def put_policy(
    category: PolicyKey, body: PolicyBody, caller: Coordinator, rt: Runtime
) -> PolicyView:
    values = {
        "first_offer_after": body.first_offer_after.total_seconds(),
        "window_closes_after": body.window_closes_after.total_seconds(),
        "follow_ups": [f.total_seconds() for f in body.follow_ups],
        "anniversary_after": (
            body.anniversary_after.total_seconds() if body.anniversary_after else None
        ),
        "follow_up_min_gap": body.follow_up_min_gap.total_seconds(),
    }
    key = {"agency_id": caller.agency, "category": str(category)}
    async with rt.sessions() as session:
        row, _ = await put_row(session, PolicyRow, key, values)
        await session.commit()
        return _view(row.category, to_policy(row), row.updated_at)


@router.get(
    "/policies",
    response_model=list[PolicyView],
    responses=PROBLEMS,
    summary="The policy in force for every category, and the agency's default",
)
async def list_policies(caller: Coordinator, rt: Runtime) -> list[PolicyView]:
    async with rt.readers() as session:
        rows = {
            row.category: row
            for row in await session.scalars(
                select(PolicyRow).where(PolicyRow.agency_id == caller.agency)
            )
        }
    views = []
    fallback = rows.get(DEFAULT)
    for key in [DEFAULT, *Category]:
        row = rows.get(str(key)) or fallback
        if row is not None:
            views.append(_view(str(key), to_policy(row), row.updated_at))
        else:
            views.append(_view(str(key), default_policy(None if key == DEFAULT else key), None))
    return views
