"""Identifiers of the public contract (docs/contract/), as pydantic types, and the derived ids.

`incident_id` is derived from `(agency_id, external_id)` so that every replay of one
report maps to one incident, whichever replica or path (HTTP, NATS, EIDO) received it;
assignment, check-in and event ids likewise from what caused them. Their inputs can be
guessed (a CAD reference, a badge number), so each id is an HMAC under the deployment's
id key, not a public hash: without the key nobody can test a guess against an id, such
as which officer an assignment is for (decision 66).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import uuid
from collections.abc import Callable
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

_key: Callable[[], str] | None = None


def use_key(key: Callable[[], str] | None) -> None:
    """Derive ids under the deployment's id key, which `key()` gives on first use (so
    building an app to export its OpenAPI needs none). The runtime of every service
    calls this; every process of a deployment must use the same key."""
    global _key
    _key = key
    _hmac_key.cache_clear()


@functools.cache
def _hmac_key() -> bytes:
    if _key is None:
        raise RuntimeError("derived ids need the deployment's id key (PEERLINE_ID_KEY)")
    return _key().encode()


def _derived(label: str, parts: tuple[object, ...]) -> uuid.UUID:
    message = "\x1f".join((label, *(str(p) for p in parts))).encode()
    digest = hmac.new(_hmac_key(), message, hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4)  # as random-looking as a random id


def incident_id_for(agency_id: str, external_id: str) -> uuid.UUID:
    return _derived("incident", (agency_id, external_id))


def derived_event_id(*parts: object) -> uuid.UUID:
    """A stable id for what one input causes (an event, an assignment, a check-in), so
    a redelivered input yields the same id and the repeat is dropped."""
    return _derived("derived", parts)
