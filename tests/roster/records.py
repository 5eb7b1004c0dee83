"""Request bodies and look-ups the roster tests share."""

from __future__ import annotations

from shared.audit import AuditRow
from tests.support.database import database_rows

EMAIL = "alex.rivera@example.org"
PHONE = "+1 555 0100 777"
URL = "json://notify.example.org:8443/pso-hook"
NAME = "Alex Rivera"


def supporter(agency: str, personnel_id: str = "PSO-7", **overrides) -> dict:
    body = {
        "agency_id": agency,
        "personnel_id": personnel_id,
        "display_name": NAME,
        "contact": {"email": EMAIL, "phone": PHONE, "url": URL},
        "rank": "Sergeant",
        "unit": "Patrol North",
        "gender": "female",
        "languages": ["es", "en"],
        "background": ["military"],
        "specialties": ["officer_involved_shooting"],
        "certified_until": "2030-06-30",
        "active": True,
        "max_open_assignments": 3,
        "accepts_cross_agency": True,
        "availability": {
            "timezone": "America/Chicago",
            "weekly": [{"day": "mon", "start": "08:00", "end": "18:00"}],
            "on_call": [{"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z"}],
            "leave": [],
        },
    }
    body.update(overrides)
    return body


COORDINATOR_EMAIL = "jordan.blake@example.org"
COORDINATOR_URL = "json://notify.example.org:8443/coordinator-hook"
COORDINATOR_NAME = "Jordan Blake"


def coordinator_body(agency: str, **overrides) -> dict:
    body = {
        "agency_id": agency,
        "display_name": COORDINATOR_NAME,
        "contact": {"email": COORDINATOR_EMAIL, "url": COORDINATOR_URL},
        "timezone": "America/Denver",
        "quiet_hours": {"start": "21:30", "end": "06:00"},
        "active": True,
    }
    body.update(overrides)
    return body


OFFICER_NAME = "Casey Brennan"
OFFICER_PHONE = "+1 555 0142 913"
OFFICER_EMAIL = "casey.brennan@home.example"


def officer_body(**overrides) -> dict:
    """An officer's record with their own name and contact details."""
    body = {
        "unit": "Patrol North",
        "rank": "Officer",
        "supervisor_id": "SGT-1",
        "display_name": OFFICER_NAME,
        "contact": {"phone": OFFICER_PHONE, "email": OFFICER_EMAIL, "preferred": "text"},
    }
    body.update(overrides)
    return body


async def audited(service) -> list[tuple[str, str, str]]:
    """The audit log as (actor, object_type, object_id), oldest first."""
    rows = await database_rows(service, AuditRow)
    return [(r.actor, r.object_type, r.object_id) for r in sorted(rows, key=lambda r: r.id)]
