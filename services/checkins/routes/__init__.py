"""The check-ins service's HTTP routes."""

from __future__ import annotations

from . import assignments, checkins, contacts, exceptions, feedback, policies, referrals

ROUTERS = (
    assignments.router,
    checkins.router,
    contacts.router,
    exceptions.router,
    feedback.router,
    policies.router,
    referrals.router,
)
# Routes that authenticate with something other than a bearer token.
ANONYMOUS_PATHS: frozenset[str] = frozenset({feedback.SUBMIT_PATH})
