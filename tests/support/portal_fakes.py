"""The roster and check-ins as the portal's request pages call them, in memory: the
shapes of their HTTP APIs (docs/roster.md), with every call kept (who, what, which
body), so page tests can say what the portal sent and as whom, without a bus."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.settings import Settings
from tests.conftest import JWT_SECRET


@dataclass
class Call:
    method: str
    path: str
    role: str
    sub: str | None
    body: dict | None


@dataclass
class FakeServices:
    """What the fake answers; tests change it between pages."""

    languages: list[str] = field(default_factory=lambda: ["en", "es"])
    requests: list[dict] = field(default_factory=list)  # the officer's, newest first
    acknowledgments: dict[str, dict] = field(default_factory=dict)  # by assignment id
    assignments: list[dict] = field(default_factory=list)  # check-ins' list
    waiting: list[dict] = field(default_factory=list)
    supporters: list[dict] = field(default_factory=list)
    cannot_take: set[str] = field(default_factory=set)  # supporters the roster refuses
    calls: list[Call] = field(default_factory=list)

    def sent(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]


def problem(status: int, detail: str, field_name: str | None = None) -> JSONResponse:
    errors = [{"loc": ["body", field_name], "msg": detail}] if field_name else []
    return JSONResponse(
        {"title": "refused", "status": status, "detail": detail, "errors": errors},
        status_code=status,
        media_type="application/problem+json",
    )


def fake_services(state: FakeServices) -> FastAPI:
    app = FastAPI()
    app.state.settings = Settings(service="roster", jwt_secret=JWT_SECRET)  # to serve it

    @app.middleware("http")
    async def keep(request: Request, call_next):
        claims = jwt.decode(
            request.headers["authorization"].removeprefix("Bearer "),
            JWT_SECRET,
            algorithms=["HS256"],
            options={"verify_aud": False, "verify_iss": False},
        )
        raw = await request.body()
        body = json.loads(raw) if raw else None
        state.calls.append(
            Call(request.method, request.url.path, claims["role"], claims.get("sub"), body)
        )
        return await call_next(request)

    @app.get("/v1/directory")
    async def directory():
        return [{"display_name": "Ana Morales", "languages": state.languages}]

    @app.get("/v1/requests")
    async def mine():
        return state.requests

    @app.post("/v1/requests", status_code=201)
    async def ask(request: Request):
        body = await request.json()
        if any(r["state"] in ("sent", "escalated") for r in state.requests):
            return problem(409, "You already have a request waiting.")
        view = {
            "request_id": str(uuid.uuid4()),
            "state": "sent",
            **body,
            "requested_at": datetime.now(UTC).isoformat(),
            "resolved_at": None,
            "peer": None,
        }
        state.requests.insert(0, view)
        return view

    @app.post("/v1/requests/{request_id}/cancel")
    async def cancel(request_id: str):
        for view in state.requests:
            if view["request_id"] == request_id:
                if view["state"] not in ("sent", "escalated"):
                    return problem(409, "This request has already been taken or cancelled.")
                view["state"] = "cancelled"
                view["resolved_at"] = datetime.now(UTC).isoformat()
                return view
        return problem(404, "You have no request with this id.")

    @app.get("/v1/assignments")
    async def assignments():
        return state.assignments

    @app.get("/v1/assignments/{assignment_id}/officer")
    async def officer(assignment_id: str):
        return {
            "assignment_id": assignment_id,
            "agency_id": "T1",
            "personnel_id": "B-9",
            "display_name": "Casey Brennan",
            "contact": {"phone": "+1 555 0100 123", "email": None, "preferred": "text"},
        }

    @app.get("/v1/assignments/{assignment_id}/acknowledgment")
    async def acknowledgment(assignment_id: str):
        if assignment_id not in state.acknowledgments:
            return problem(403, "Only the supporter it is assigned to may.")
        return state.acknowledgments[assignment_id]

    @app.post("/v1/assignments/{assignment_id}/acknowledge")
    async def acknowledge(assignment_id: str, request: Request):
        body = await request.json()
        reach_by = datetime.fromisoformat(body["reach_by"])
        now = datetime.now(UTC)
        if not now - timedelta(minutes=5) <= reach_by <= now + timedelta(hours=72):
            return problem(422, "Choose a time from now to 72 hours ahead.", "reach_by")
        view = state.acknowledgments[assignment_id]
        view.update(acknowledged_at=now.isoformat(), reach_by=reach_by.isoformat())
        return view

    @app.get("/v1/me")
    async def me():
        return {"timezone": "UTC"}

    @app.get("/v1/waiting")
    async def waiting():
        return state.waiting

    @app.post("/v1/waiting/{assignment_id}/give")
    async def give(assignment_id: str, request: Request):
        body = await request.json()
        if body["supporter_id"] in state.cannot_take:
            return problem(409, "This supporter cannot take it.", "supporter_id")
        state.waiting = [w for w in state.waiting if w["assignment_id"] != assignment_id]
        return {"assignment_id": assignment_id, "supporter_id": body["supporter_id"]}

    @app.get("/v1/supporters")
    async def supporters():
        return state.supporters

    return app
