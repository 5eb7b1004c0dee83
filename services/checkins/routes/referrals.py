"""Referrals of an officer a supporter has spoken with to a resource (see `referrals`).

The body holds exactly what `ReferralMade` carries: anything else is refused with
nothing stored (rule 1).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from shared.events import ResourceId
from shared.routes import Runtime
from shared.vocab import ResourceType, Urgency

from .. import referrals
from .deps import PROBLEMS, Supporter

router = APIRouter(prefix="/v1", tags=["referrals"])


class ReferralBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: uuid.UUID
    resource_id: ResourceId
    urgency: Urgency


class ReferralMadeView(BaseModel):
    referral_id: uuid.UUID
    resource_type: ResourceType


@router.post(
    "/referrals",
    status_code=201,
    response_model=ReferralMadeView,
    responses=PROBLEMS,
    summary="Refer the officer of a contact to a resource (publishes ReferralMade)",
)
async def make_referral(body: ReferralBody, caller: Supporter, rt: Runtime) -> ReferralMadeView:
    async with rt.sessions() as session:
        referral = await referrals.refer(
            session, caller, body.contact_id, body.resource_id, body.urgency, source=rt.source
        )
        await session.commit()
    return ReferralMadeView(referral_id=referral.referral_id, resource_type=referral.resource_type)
