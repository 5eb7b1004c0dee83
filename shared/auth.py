"""Who may call an HTTP route: the verified caller, their role, their agency.

Every route names the roles it admits, and every read or write of agency data goes
through `ensure_agency`, so one agency's token never reaches another's data (rule
11).
"""

from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts

from shared.errors import NotAllowed
from shared.problems import Problem
from shared.tokens import Principal, Role, TokenVerifier

__all__ = [
    "TOKEN_REQUIRED",
    "Principal",
    "Role",
    "bearer_token",
    "current_principal",
    "document_roles",
    "ensure_agency",
    "require_role",
    "roles_of",
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

    dependency.roles = roles  # read by `roles_of`, for the OpenAPI document
    return dependency


def roles_of(route: APIRoute) -> tuple[Role, ...] | None:
    """The roles a route admits, from its `require_role` dependency; None when it has
    none (it takes no bearer token, or any verified caller)."""
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        roles = getattr(dependant.call, "roles", None)
        if roles is not None:
            return roles
        pending += dependant.dependencies
    return None


def document_roles(app: FastAPI) -> None:
    """Name in each operation of the app's OpenAPI document the roles it admits
    (`x-peerline-roles`), so the contract says who may call what and a test generated
    from the contract can call each route with every other role."""
    plain = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = plain()
            for context in iter_route_contexts(app.routes):
                route = context.route
                roles = roles_of(route) if isinstance(route, APIRoute) else None
                if roles is None or not route.include_in_schema:
                    continue
                for method in context.methods:
                    operation = document["paths"][context.path_format][method.lower()]
                    operation["x-peerline-roles"] = sorted(r.value for r in roles)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi


def ensure_agency(principal: Principal, agency_id: str) -> None:
    """Refused (403) unless the caller's token belongs to `agency_id`: a domain error, so
    use cases check the wall the same way routes do."""
    if principal.agency != agency_id:
        raise NotAllowed("This token belongs to another agency.")
