"""The agency's check-in policies as stored: one per category, or the agency's default,
or else the program's defaults (`domain.default_policy`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.vocab import Category

from .domain import DEFAULT, Policy, default_policy
from .store import PolicyRow


def to_policy(row: PolicyRow) -> Policy:
    return Policy(
        first_offer_after=timedelta(seconds=row.first_offer_after),
        window_closes_after=timedelta(seconds=row.window_closes_after),
        follow_ups=tuple(timedelta(seconds=s) for s in row.follow_ups),
        anniversary_after=(
            timedelta(seconds=row.anniversary_after) if row.anniversary_after is not None else None
        ),
        follow_up_min_gap=timedelta(seconds=row.follow_up_min_gap),
    )


async def policy_for(session: AsyncSession, agency_id: str, category: Category | None) -> Policy:
    wanted = [category.value, DEFAULT] if category else [DEFAULT]
    rows = {
        row.category: row
        for row in await session.scalars(
            select(PolicyRow).where(
                PolicyRow.agency_id == agency_id, PolicyRow.category.in_(wanted)
            )
        )
    }
    for key in wanted:
        if key in rows:
            return to_policy(rows[key])
    return default_policy(category)
