"""When a supporter's certification or training needs the coordinator's attention.

A date is the last day it is valid. Certification is current only while the agency's
required training areas are, so the coordinator sees both, in one list: what is
missing, what has expired, and what expires within the horizon they ask about.
"""

from __future__ import annotations

import enum
from datetime import date


class Due(enum.StrEnum):
    MISSING = "missing"
    EXPIRED = "expired"
    EXPIRING = "expiring"


def due(valid_until: date | None, today: date, horizon: date) -> Due | None:
    """What needs doing about something valid until `valid_until`; None if nothing
    before `horizon`."""
    if valid_until is None:
        return Due.MISSING
    if valid_until < today:
        return Due.EXPIRED
    if valid_until <= horizon:
        return Due.EXPIRING
    return None
