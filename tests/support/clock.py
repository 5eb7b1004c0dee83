"""Times for tests, relative to now, so that no test depends on the day it runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def hours_ago(hours: float) -> str:
    """An RFC 3339 time `hours` before now, as a CAD would report it."""
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="seconds")
