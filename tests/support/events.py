"""Events as the services publish them, for tests that play one service's part."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from shared.events import PeerAssigned
from shared.vocab import AssignmentReason, Category


def peer_assigned(
    agency: str,
    *,
    personnel_id: str = "B100",
    supporter_id: str = "S-A",
    category: Category = Category.OFFICER_INVOLVED_SHOOTING,
    occurred_at: datetime | None = None,
    reasons: Iterable[AssignmentReason] = (AssignmentReason.AVAILABLE_NOW,),
) -> PeerAssigned:
    """A new assignment of the roster's, of a supporter of the officer's own agency, for
    an incident that happened at `occurred_at` (now by default)."""
    return PeerAssigned(
        agency_id=agency,
        assignment_id=uuid.uuid4(),
        incident_id=uuid.uuid4(),
        personnel_id=personnel_id,
        supporter_id=supporter_id,
        supporter_agency_id=agency,
        reasons=list(reasons),
        category=category,
        incident_occurred_at=occurred_at or datetime.now(UTC),
    )
