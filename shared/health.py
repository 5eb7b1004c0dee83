"""`/healthz` (alive), `/readyz` (bus and database reachable), `/metrics` (Prometheus)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from shared.problems import problem_response


def health_router(readiness: Callable[[], Awaitable[dict[str, bool]]]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="The bus and the database are reachable",
        responses={503: {"description": "Not ready"}},
    )
    async def readyz():
        checks = await readiness()
        if all(checks.values()):
            return {"status": "ready", "checks": checks}
        down = ", ".join(k for k, ok in checks.items() if not ok)
        return problem_response(503, "Service Unavailable", f"not reachable: {down}", checks=checks)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
