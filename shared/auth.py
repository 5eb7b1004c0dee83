"""Who may call an HTTP route: the verified caller, their role, their agency.

Every route names the roles it admits, and every read or write of agency data goes
through `ensure_agency`, so one agency's token never reaches another's data (rule
11).
"""

from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import Depends, Request

from shared.errors import NotAllowed
from shared.problems import Problem
from shared.tokens import Principal, Role, TokenVerifier

__all__ = [
    "TOKEN_REQUIRED",
    "Principal",
    "Role",
    "bearer_token",
    "current_principal",
    "ensure_agency",
    "require_role",
]

TOKEN_REQUIRED = "A bearer token is required."


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` value, unverified; None if absent.
    `shared.http_guard` uses it to refuse a request before its body is read."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token.strip()


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the verified caller, or 401."""
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        raise Problem(401, "Unauthorized", TOKEN_REQUIRED)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return verifier.verify(token)
    except jwt.PyJWTError:
        raise Problem(401, "Unauthorized", "The bearer token is invalid or expired.") from None


def require_role(*roles: Role):
    """FastAPI dependency factory: the caller, if their role is one of `roles`; else 403."""

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Problem(403, "Forbidden", f"This needs one of the roles: {allowed}.")
        return principal

    return dependency


def ensure_agency(principal: Principal, agency_id: str) -> None:
    """Refused (403) unless the caller's token belongs to `agency_id`: a domain error, so
    use cases check the wall the same way routes do."""
    if principal.agency != agency_id:
        raise NotAllowed("This token belongs to another agency.")
