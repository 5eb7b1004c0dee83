"""Contacts: that support happened, never what was said (rule 1; see `contacts`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shared.routes import Runtime

from .. import contacts
from ..contacts import ContactBody
from .deps import PROBLEMS, CareCases, Pseudonymise, Supporter

router = APIRouter(prefix="/v1", tags=["contacts"])


class ContactLoggedView(BaseModel):
    contact_id: uuid.UUID
    checkin_id: uuid.UUID | None
    checkin_closed: bool = Field(description="Whether this contact closed the check-in.")


@router.post(
    "/contacts",
    status_code=201,
    response_model=ContactLoggedView,
    responses=PROBLEMS,
    summary="Log that a contact happened (publishes ContactLogged; may close the check-in)",
)
async def log_contact(
    body: ContactBody, caller: Supporter, rt: Runtime, care: CareCases, pseudonyms: Pseudonymise
) -> ContactLoggedView:
    async with rt.sessions() as session:
        logged = await contacts.log(
            session, caller, body, care=care, pseudonyms=pseudonyms, source=rt.source
        )
        await session.commit()
    return ContactLoggedView(
        contact_id=logged.contact_id,
        checkin_id=body.checkin_id,
        checkin_closed=logged.checkin_closed,
    )
