"""Durations as people type them on a command line: `90s`, `30m`, `1h`, `7d`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    """A positive duration; ValueError (with the accepted forms) for anything else."""
    match = _PATTERN.match(text.lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a duration like 90s, 30m, 1h, 7d or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
