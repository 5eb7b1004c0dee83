"""Supporters', coordinators' and officers' personal details, sealed at rest with the
field key (`shared.crypto`).

The name and the contact details are what would expose a person if the roster's
database or a backup leaked, and nothing queries them, so they are stored only as one
sealed value per person, bound to the kind of record and its id. Everything matching
and the coordinators' lists filter on (agency, personnel id, flags, dates) stays in
clear.

An officer's own details are the last mile of care: how the supporter assigned to them
reaches them. They have their own shape (no notification URL, a preferred way to be
reached) and their own kind, bound to the agency and the personnel id, since a
personnel id is unique only within its agency.
"""

from __future__ import annotations

import enum
from functools import cached_property

from pydantic import BaseModel, Field, field_validator

from shared import outbound
from shared.crypto import FieldCipher
from shared.errors import Invalid
from shared.settings import Settings

from .fields import Body, Email, Name, NotifyUrl, Phone

# The kinds of record whose details are sealed: the context a value is bound to.
SUPPORTER = "supporter"
COORDINATOR = "coordinator"
OFFICER = "officer"


class Contact(Body):
    """How Peerline reaches the person with notifications; any of them."""

    email: Email | None = None
    phone: Phone | None = None
    url: NotifyUrl | None = None


class Personal(BaseModel):
    display_name: Name
    contact: Contact


class Way(enum.StrEnum):
    """How an officer would rather be reached by the supporter assigned to them."""

    CALL = "call"
    TEXT = "text"
    EMAIL = "email"
    IN_PERSON = "in_person"


# The detail a preferred way needs: a call or a text needs a phone, an e-mail an address.
_NEEDS = {Way.CALL: "phone", Way.TEXT: "phone", Way.EMAIL: "email"}


class OfficerContact(Body):
    """How the supporter assigned to an officer reaches them; any of them."""

    phone: Phone | None = None
    email: Email | None = None
    preferred: Way | None = Field(
        default=None, description="call or text need a phone, email an e-mail address."
    )

    @field_validator("preferred")
    @classmethod
    def _reachable_that_way(cls, preferred: Way | None, info) -> Way | None:
        needed = _NEEDS.get(preferred)
        # A detail that failed its own check is absent from `info.data`: no second error.
        if needed is not None and needed in info.data and info.data[needed] is None:
            raise ValueError(f"{preferred.value} needs the {needed}")
        return preferred

    def on_file(self) -> bool:
        """Whether there is a way to reach the officer other than in person."""
        return self.phone is not None or self.email is not None


class OfficerPersonal(BaseModel):
    display_name: Name | None = None
    contact: OfficerContact = Field(default_factory=OfficerContact)

    def empty(self) -> bool:
        return self.display_name is None and self.contact == OfficerContact()


def officer_key(agency_id: str, personnel_id: str) -> str:
    """An officer's record id for sealing: agency ids hold no colon, so it is unique."""
    return f"{agency_id}:{personnel_id}"


class Sealer:
    """Seals and opens personal details. The key is read on first use, so building the
    app (say, to export its OpenAPI) needs none; `main` refuses to start without one."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @cached_property
    def _cipher(self) -> FieldCipher:
        return FieldCipher(self._settings.sealing_key())

    @cached_property
    def _allowed(self) -> tuple[outbound.IpNetwork, ...]:
        return outbound.networks(self._settings.notify_allowed_networks)

    async def check(self, contact: Contact) -> None:
        """Refuse (`Invalid`, field `contact.url`) a notification URL that notify may not
        send to: a private, loopback or link-local address, or an unknown kind
        (decision 65). Checked before anything is sealed or written, without a DNS
        look-up (an import may hold thousands); notify resolves names before each send."""
        if contact.url is None:
            return
        try:
            await outbound.check(contact.url, self._allowed, resolve=False)
        except outbound.Refused as refused:
            raise Invalid("contact.url", str(refused)) from None

    def seal(self, record_id: str, personal: BaseModel, *, kind: str = SUPPORTER) -> bytes:
        """Seal `personal` for the record `kind:record_id`: it opens for that record only,
        so a value copied into another row, or into a coordinator's, is refused."""
        return self._cipher.seal(personal.model_dump_json().encode(), f"{kind}:{record_id}")

    def open(self, record_id: str, sealed: bytes, *, kind: str = SUPPORTER) -> Personal:
        return Personal.model_validate_json(self._cipher.open(sealed, f"{kind}:{record_id}"))

    def seal_officer(self, agency_id: str, personnel_id: str, personal: OfficerPersonal) -> bytes:
        return self.seal(officer_key(agency_id, personnel_id), personal, kind=OFFICER)

    def open_officer(
        self, agency_id: str, personnel_id: str, sealed: bytes | None
    ) -> OfficerPersonal:
        """The officer's details; none (an empty value) when nothing is on file."""
        if sealed is None:
            return OfficerPersonal()
        context = f"{OFFICER}:{officer_key(agency_id, personnel_id)}"
        return OfficerPersonal.model_validate_json(self._cipher.open(sealed, context))
