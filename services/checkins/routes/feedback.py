"""Anonymous feedback on the program (see `feedback`): coordinators issue codes, and
anyone holding one rates the program. Submitting needs no bearer token: the code is the
credential.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.routes import Runtime

from .. import feedback
from .deps import PROBLEMS, Coordinator

router = APIRouter(prefix="/v1", tags=["feedback"])

SUBMIT = "/feedback"
# The path the service's HTTP guard lets in without a bearer token: the code is the
# credential.
SUBMIT_PATH = router.prefix + SUBMIT


class CodesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=1000, description="How many codes to issue.")


class CodesView(BaseModel):
    codes: list[str] = Field(description="The codes, shown this once: only hashes are kept.")


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(max_length=64)] = Field(
        description="A feedback code; case, spaces and dashes do not matter."
    )
    rating: int = Field(ge=1, le=5)
    would_recommend: bool


class FeedbackAccepted(BaseModel):
    status: Literal["accepted"] = "accepted"


@router.post(
    "/feedback/codes",
    status_code=201,
    response_model=CodesView,
    responses=PROBLEMS,
    summary="Issue single-use feedback codes for the agency (returned once, kept as hashes)",
)
async def issue_codes(body: CodesBody, caller: Coordinator, rt: Runtime) -> CodesView:
    async with rt.sessions() as session:
        codes = feedback.issue_codes(session, caller.agency, body.count)
        await session.commit()
    return CodesView(codes=codes)


@router.post(
    SUBMIT,
    status_code=202,
    response_model=FeedbackAccepted,
    responses={k: v for k, v in PROBLEMS.items() if k not in (401, 403)},
    summary="Rate the program anonymously with a feedback code (no bearer token; "
    "publishes FeedbackSubmitted)",
)
async def submit_feedback(body: FeedbackBody, rt: Runtime) -> FeedbackAccepted:
    async with rt.sessions() as session:
        await feedback.submit(
            session, body.code, body.rating, body.would_recommend, source=rt.source
        )
        await session.commit()
    return FeedbackAccepted()
