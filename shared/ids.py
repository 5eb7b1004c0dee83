"""Identifiers of the public contract (docs/contract/), as pydantic types, and the derived ids.

`incident_id` is derived from `(agency_id, external_id)` so that every replay of one
report maps to one incident, whichever replica or path (HTTP, NATS, EIDO) received it.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from pydantic import StringConstraints

AGENCY_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$")
# 1-128 printable characters without whitespace.
PERSONNEL_ID_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")
# The CAD's own incident reference: printable, no control characters.
EXTERNAL_ID_PATTERN = re.compile(r"^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$")

AgencyId = Annotated[str, StringConstraints(pattern=AGENCY_ID_PATTERN.pattern)]
PersonnelId = Annotated[str, StringConstraints(pattern=PERSONNEL_ID_PATTERN.pattern)]
ExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=EXTERNAL_ID_PATTERN.pattern)
]

_INCIDENT_NAMESPACE = uuid.UUID("5a0c3f8e-8f0e-4c55-9a4e-1f3b2d6c7e01")
_EVENT_NAMESPACE = uuid.UUID("0e7d6a55-2b8f-4f6e-b3c1-7d2a9e4f5c10")


def incident_id_for(agency_id: str, external_id: str) -> uuid.UUID:
    return uuid.uuid5(_INCIDENT_NAMESPACE, f"{agency_id}\x1f{external_id}")


def derived_event_id(*parts: object) -> uuid.UUID:
    """A stable event id for an event caused by one input, so a redelivered input
    yields the same `Nats-Msg-Id` and the bus drops the repeat."""
    return uuid.uuid5(_EVENT_NAMESPACE, "\x1f".join(str(p) for p in parts))
