"""Supporters' and coordinators' personal details, sealed at rest with the field key
(`shared.crypto`).

The name and the contact details are what would expose a supporter or a coordinator if
the roster's database or a backup leaked, and nothing queries them, so they are stored
only as one sealed value per person, bound to the kind of record and its id. Everything
matching and the coordinators' lists filter on (agency, personnel id, flags, dates)
stays in clear.
"""

from __future__ import annotations

from functools import cached_property

from pydantic import BaseModel

from shared.crypto import FieldCipher
from shared.settings import Settings

from .fields import Body, Email, Name, NotifyUrl, Phone

# The kinds of record whose details are sealed: the context a value is bound to.
SUPPORTER = "supporter"
COORDINATOR = "coordinator"


class Contact(Body):
    """How Peerline reaches the person with notifications; any of them."""

    email: Email | None = None
    phone: Phone | None = None
    url: NotifyUrl | None = None


class Personal(BaseModel):
    display_name: Name
    contact: Contact


class Sealer:
    """Seals and opens personal details. The key is read on first use, so building the
    app (say, to export its OpenAPI) needs none; `main` refuses to start without one."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @cached_property
    def _cipher(self) -> FieldCipher:
        return FieldCipher(self._settings.sealing_key())

    def seal(self, record_id: str, personal: Personal, *, kind: str = SUPPORTER) -> bytes:
        """Seal `personal` for the record `kind:record_id`: it opens for that record only,
        so a value copied into another row, or into a coordinator's, is refused."""
        return self._cipher.seal(personal.model_dump_json().encode(), f"{kind}:{record_id}")

    def open(self, record_id: str, sealed: bytes, *, kind: str = SUPPORTER) -> Personal:
        return Personal.model_validate_json(self._cipher.open(sealed, f"{kind}:{record_id}"))
