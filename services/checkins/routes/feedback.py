"""Anonymous feedback on the program, with single-use codes linked to nothing.

A coordinator issues a batch of codes to hand out on cards or in messages. Each code is
kept only as a hash with its agency: no batch, time or issuer, so a rating can be tied
neither to a person nor to the moment its code was handed out. The answer to the issuing
request is the only place the codes exist in clear.

Submitting needs no bearer token: the code is the credential. It is spent by a
conditional UPDATE, so of two racing submissions only one counts. Nothing about the
request is audited or logged, and the event starts a trace of its own, so not even the
caller's trace id follows the rating onto the bus.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Literal

from fastapi import APIRouter
from opentelemetry.context import Context
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import update

from shared import outbox
from shared.events import FeedbackSubmitted
from shared.problems import Problem
from shared.routes import Runtime

from ..http import PROBLEMS, Coordinator
from ..store import FeedbackCodeRow

router = APIRouter(prefix="/v1", tags=["feedback"])

SUBMIT = "/feedback"
# The path the service's HTTP guard lets in without a bearer token: the code is the
# credential.
SUBMIT_PATH = router.prefix + SUBMIT
# No 0/O, 1/I: a code is read off a card and typed. 32 symbols, 12 of them: 60 bits.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
GROUPS, GROUP_LENGTH = 3, 4


def new_code() -> str:
    """A random code, grouped for reading aloud and typing: `K7QP-M2XD-9RTA`."""
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LENGTH))
    return "-".join(symbols[i : i + GROUP_LENGTH] for i in range(0, len(symbols), GROUP_LENGTH))


def code_hash(code: str) -> str:
    """The stored form of a code, the same however it was typed (case, spaces, dashes)."""
    normalised = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


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
    codes = [new_code() for _ in range(body.count)]
    async with rt.sessions() as session:
        session.add_all(
            FeedbackCodeRow(code_hash=code_hash(code), agency_id=caller.agency) for code in codes
        )
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
    digest = code_hash(body.code)
    async with rt.sessions() as session:
        agency_id = await session.scalar(
            update(FeedbackCodeRow)
            .where(FeedbackCodeRow.code_hash == digest, FeedbackCodeRow.used.is_(False))
            .values(used=True)
            .returning(FeedbackCodeRow.agency_id)
        )
        if agency_id is None:
            if await session.get(FeedbackCodeRow, digest) is None:
                raise Problem(404, "Not Found", "No such feedback code.")
            raise Problem(409, "Conflict", "This feedback code has been used.")
        outbox.add(
            session,
            FeedbackSubmitted(
                agency_id=agency_id, rating=body.rating, would_recommend=body.would_recommend
            ),
            source=rt.source,
            trace=Context(),
        )
        await session.commit()
    return FeedbackAccepted()
