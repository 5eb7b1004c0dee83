"""HTTP clients of a service under test, as a caller of an agency in a role."""

from __future__ import annotations

import httpx

from shared.tokens import Role
from tests.conftest import bearer


def client(service, agency: str, role: Role, sub: str | None = None) -> httpx.AsyncClient:
    """A client of `service` (a running service fixture) with a token of `agency` in
    `role`, as `sub` when given."""
    return httpx.AsyncClient(base_url=service.url, headers=bearer(agency, role, sub))
