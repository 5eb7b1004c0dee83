"""Officer pseudonyms: `officer_ref`, a keyed HMAC of (agency, personnel id).

Contacts name the officer only this way (CONTRACT, rules the events obey): the same
officer gets the same ref within an agency, so metrics count distinct officers, and
without the key nobody can tell who it is, nor test a guess (decision 25).
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cached_property

from shared.settings import Settings


def officer_ref(key: str, agency_id: str, personnel_id: str) -> str:
    message = f"{agency_id}\x1f{personnel_id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


class Pseudonyms:
    """`officer_ref` under the configured key, read on first use: building the app (to
    export its OpenAPI, say) needs none; the service's `main` refuses to start without."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @cached_property
    def _key(self) -> str:
        return self._settings.pseudonym_secret()

    def officer_ref(self, agency_id: str, personnel_id: str) -> str:
        return officer_ref(self._key, agency_id, personnel_id)
