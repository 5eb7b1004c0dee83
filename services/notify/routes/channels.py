"""`GET /v1/channels`: what the service can deliver over, so an operator or coordinator
sees at once when only recipients' own URLs can be reached (every other notification
would end `failed`/`no_channel`)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shared.routes import Runtime

from ..domain import channels_of
from .deps import PROBLEMS, OpsOrCoordinator

router = APIRouter(prefix="/v1", tags=["notifications"])


class ChannelsView(BaseModel):
    email: bool = Field(description="An SMTP relay is configured.")
    sms: bool = Field(description="An SMS gateway is configured.")
    console: bool = Field(description="Deliveries fall back to the service's log.")
    warning: str | None = Field(
        description="Set when a recipient without a notification URL of their own cannot "
        "be reached at all."
    )


@router.get(
    "/channels",
    response_model=ChannelsView,
    responses=PROBLEMS,
    summary="The channels this service can deliver over, and a warning when none but "
    "recipients' own URLs",
)
async def list_channels(_: OpsOrCoordinator, rt: Runtime) -> ChannelsView:
    s = rt.settings
    found = channels_of(smtp_url=s.smtp_url, sms_url=s.sms_url, console=s.notify_console)
    return ChannelsView(
        email=found.email, sms=found.sms, console=found.console, warning=found.warning()
    )
