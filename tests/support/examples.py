"""How many examples a property test draws: all of them in `make test`, a fifth in the
quick loop of `make test-unit` (which sets `PEERLINE_QUICK_PROPERTIES=1`), so that the
loop stays under 30 seconds while the full suite still searches as widely."""

from __future__ import annotations

import os


def examples(full: int) -> int:
    if os.environ.get("PEERLINE_QUICK_PROPERTIES") == "1":
        return max(full // 5, 10)
    return full
